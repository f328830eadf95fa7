package cli

import (
	"flag"
	"fmt"
	"strings"
	"time"
)

const defaultServer = "localhost:9090"

// options are the flags every command takes: where Cairn is, who calls, and
// how to print.
type options struct {
	server  string
	token   string
	tls     bool
	caFile  string
	output  string
	timeout time.Duration
	getenv  func(string) string
}

// commonFlags names the flags options registers, which usage lists apart.
var commonFlags = map[string]bool{"server": true, "token": true, "tls": true, "tls-ca-file": true, "output": true, "timeout": true}

func (o *options) register(fs *flag.FlagSet, getenv func(string) string) {
	o.getenv = getenv
	server := defaultServer
	if env := getenv("CAIRN_SERVER"); env != "" {
		server = env
	}
	fs.StringVar(&o.server, "server", server, "Cairn's gRPC `address` (env CAIRN_SERVER)")
	// The default stays empty and CAIRN_TOKEN is read after parsing, so that
	// usage never prints the token.
	fs.StringVar(&o.token, "token", "", "bearer `token`; better in env CAIRN_TOKEN, as other users can read flags from the process list")
	fs.BoolVar(&o.tls, "tls", false, "connect over TLS, trusting the system's certificate authorities")
	fs.StringVar(&o.caFile, "tls-ca-file", "", "connect over TLS, trusting the PEM certificate authorities in `file`")
	fs.StringVar(&o.output, "output", "text", "output `format`: text or json (protojson, one object a line)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "deadline of each call; 0 for none; --follow has none")
}

// bearerToken is --token, else CAIRN_TOKEN.
func (o *options) bearerToken() string {
	if o.token != "" {
		return strings.TrimSpace(o.token)
	}
	return strings.TrimSpace(o.getenv("CAIRN_TOKEN"))
}

// parseInterleaved parses flags before, between and after positional
// arguments (`service create NAME --owner TEAM`): flag.Parse alone stops at
// the first positional one. After `--` everything is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// stringList is a flag that may be repeated: --env staging --env production.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// commandUsage is a command's help: synopsis, summary, its own flags, then
// the common ones.
func commandUsage(group string, cmd command, fs *flag.FlagSet) string {
	var own, common strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		line := flagLine(f)
		if commonFlags[f.Name] {
			common.WriteString(line)
		} else {
			own.WriteString(line)
		}
	})
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: cairn %s %s %s [flags]\n\n%s%s.\n", group, cmd.name, cmd.args, strings.ToUpper(cmd.summary[:1]), cmd.summary[1:])
	if own.Len() > 0 {
		b.WriteString("\nFlags:\n")
		writeAligned(&b, own.String())
	}
	b.WriteString("\nConnection and output flags:\n")
	writeAligned(&b, common.String())
	return b.String()
}

// flagLine is one tab-separated line of usage: `--name value`, what it does,
// and its default when that is not the zero value.
func flagLine(f *flag.Flag) string {
	name, usage := flag.UnquoteUsage(f)
	if name != "" {
		name = " " + name
	}
	if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
		usage += fmt.Sprintf(" (default %s)", f.DefValue)
	}
	return fmt.Sprintf("  --%s%s\t%s\n", f.Name, name, usage)
}

func writeAligned(b *strings.Builder, lines string) {
	tw := newTable(b)
	fmt.Fprint(tw, lines)
	tw.Flush()
}
