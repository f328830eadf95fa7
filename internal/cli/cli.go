// Package cli is cairn's operator commands, `cairn service ...`,
// `cairn promotion ...` and `cairn cost ...`: thin clients of Cairn's API
// over gRPC that print for people (text tables) or for programs (protojson,
// one object a line).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand, such as `service create`.
type command struct {
	name  string
	args  string // the positional arguments, as the synopsis shows them
	nargs int
	// optionalArg lets the last positional argument be left out (for a
	// flag that takes its place).
	optionalArg bool
	summary     string
	// define registers the command's own flags on fs and returns what runs
	// once they are parsed.
	define func(fs *flag.FlagSet) action
}

// action runs a command with its positional arguments.
type action func(ctx context.Context, c *client, args []string) error

var groups = map[string][]command{
	"service":     {serviceCreate(), serviceStatus()},
	"promotion":   {promotionRequest(), promotionDecide("approve"), promotionDecide("deny"), promotionList()},
	"cost":        {costImport(), costAnomalies(), costRegressions()},
	"template":    {templateLedger()},
	"environment": {environmentList()},
	"deployment":  {deploymentList()},
	"incident":    {incidentList(), incidentLink()},
}

// UsageError is a command line that cannot be run as given.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &UsageError{msg: fmt.Sprintf(format, a...)}
}

// ExitCode is the exit status for an error Run returned: 2 for a usage
// error, 1 for any other, 0 for none.
func ExitCode(err error) int {
	var usage *UsageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &usage):
		return 2
	}
	return 1
}

// Run runs `cairn service ...`, `cairn promotion ...`, `cairn cost ...` or `cairn template ...`; args starts with
// the group's name. getenv supplies CAIRN_SERVER and CAIRN_TOKEN.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || groups[args[0]] == nil {
		return usageErrorf("cli.Run needs a command group: service, promotion, environment, cost, template, deployment or incident")
	}
	group, commands := args[0], groups[args[0]]
	if len(args) < 2 {
		fmt.Fprint(stderr, groupUsage(group, commands))
		return usageErrorf("%s needs a command", group)
	}
	if isHelp(args[1]) {
		fmt.Fprint(stdout, groupUsage(group, commands))
		return nil
	}
	for _, cmd := range commands {
		if cmd.name == args[1] {
			return runCommand(ctx, group, cmd, args[2:], stdout, stderr, getenv)
		}
	}
	fmt.Fprint(stderr, groupUsage(group, commands))
	return usageErrorf("unknown command %q", group+" "+args[1])
}

func runCommand(ctx context.Context, group string, cmd command, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("cairn "+group+" "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage is printed below, to stdout or stderr as fits
	fs.Usage = func() {}
	act := cmd.define(fs)
	var opts options
	opts.register(fs, getenv)
	usage := commandUsage(group, cmd, fs)

	positional, err := parseInterleaved(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return nil
	case err != nil:
		fmt.Fprint(stderr, usage)
		return &UsageError{msg: err.Error()}
	case len(positional) != cmd.nargs && !(cmd.optionalArg && len(positional) == cmd.nargs-1):
		fmt.Fprint(stderr, usage)
		return usageErrorf("cairn %s %s wants %d argument(s), got %d", group, cmd.name, cmd.nargs, len(positional))
	}
	err = execute(ctx, &opts, act, positional, stdout)
	var usageErr *UsageError
	if errors.As(err, &usageErr) {
		fmt.Fprint(stderr, usage)
	}
	return describe(err)
}

func execute(ctx context.Context, opts *options, act action, args []string, stdout io.Writer) error {
	c, err := opts.client(stdout)
	if err != nil {
		return err
	}
	defer c.close()
	return act(ctx, c, args)
}

func isHelp(arg string) bool {
	return arg == "help" || arg == "-h" || arg == "-help" || arg == "--help"
}

func groupUsage(group string, commands []command) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: cairn %s <command> [flags]\n\nCommands:\n", group)
	tw := newTable(&b)
	for _, cmd := range commands {
		fmt.Fprintf(tw, "  %s %s\t%s\n", cmd.name, cmd.args, cmd.summary)
	}
	tw.Flush()
	fmt.Fprintf(&b, "\n'cairn %s <command> --help' lists a command's flags.\n", group)
	return b.String()
}
