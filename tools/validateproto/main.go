// Command validateproto writes buf/validate/validate.proto into a directory.
//
// protovalidate publishes its rules proto only through the Buf Schema Registry,
// which Cairn's builds cannot reach. The Go module that buf itself depends on
// embeds the compiled descriptor, so this prints it back to source for buf to
// compile our protos against. The output is a build input, never committed.
package main

import (
	"flag"
	"log"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"github.com/jhump/protoreflect/v2/protoprint"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func main() {
	out := flag.String("out", "", "directory that receives buf/validate/validate.proto")
	flag.Parse()
	if *out == "" {
		log.Fatal("validateproto: -out is required")
	}
	printer := protoprint.Printer{}
	files := []protoreflect.FileDescriptor{validate.File_buf_validate_validate_proto}
	if err := printer.PrintProtosToFileSystem(files, *out); err != nil {
		log.Fatalf("validateproto: %v", err)
	}
}
