package main

// The documentation, checked against the repository and the binary: the
// README, ARCHITECTURE.md and docs/*.md. Every link and anchor resolves,
// every repository path, make target and test a command names exists, every
// cairn command line is accepted, every curl and grpcurl call names a method
// of the API, and the README's tour runs against a real Cairn.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	_ "github.com/cairn-dev/cairn/gen/go/cairn/v1" // registers cairn.v1's descriptors
	"github.com/cairn-dev/cairn/internal/testenv/testnet"
)

// repoRoot is the repository, seen from this package's directory, where go
// test runs. The docs' commands run from there.
const repoRoot = "../.."

// docFiles are the documents checked, relative to the repository.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	require.NoError(t, err)
	require.NotEmpty(t, pages, "no docs/*.md")
	files := []string{"README.md", "ARCHITECTURE.md"}
	for _, p := range pages {
		rel, err := filepath.Rel(repoRoot, p)
		require.NoError(t, err)
		files = append(files, filepath.ToSlash(rel))
	}
	return files
}

// markdown is what the checks read of one document.
type markdown struct {
	file     string // relative to the repository
	headings []heading
	blocks   []codeBlock
	spans    []codeSpan
	links    []mdLink
	tables   []tableRow
}

type tableRow struct {
	cells []string // as written
	line  int
}

type heading struct {
	level int
	text  string
	slug  string
}

type codeBlock struct {
	lang    string
	text    string
	line    int
	section string // the level-2 heading above it
}

type codeSpan struct {
	text string
	line int
}

type mdLink struct {
	target string
	line   int
}

func (d *markdown) where(line int) string { return fmt.Sprintf("%s:%d", d.file, line) }

// shell reports whether a block holds commands to run.
func (b codeBlock) shell() bool {
	return b.lang == "sh" || b.lang == "bash" || b.lang == "shell" || b.lang == "console"
}

var (
	headingLine = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	spanPattern = regexp.MustCompile("`([^`]+)`")
	linkPattern = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)
)

// parseMarkdown reads a document the way GitHub renders it, as far as the
// checks need: fenced blocks apart, headings with their anchors, code spans
// (which may run over a line break), links outside code, and table rows.
func parseMarkdown(t *testing.T, file string) *markdown {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, file))
	require.NoError(t, err)
	d := &markdown{file: file}
	slugs := map[string]int{}
	var prose strings.Builder // outside fenced blocks, code blocks blanked
	var fence *codeBlock
	var fenceIndent int
	var body []string
	section := ""
	for i, line := range strings.Split(string(raw), "\n") {
		n := i + 1
		trimmed := strings.TrimLeft(line, " ")
		if fence != nil {
			if strings.HasPrefix(trimmed, "```") && strings.TrimSpace(trimmed[3:]) == "" {
				fence.text = strings.Join(body, "\n")
				d.blocks = append(d.blocks, *fence)
				fence, body = nil, nil
			} else {
				body = append(body, strings.TrimPrefix(line, strings.Repeat(" ", min(fenceIndent, len(line)-len(trimmed)))))
			}
			prose.WriteString("\n")
			continue
		}
		if strings.HasPrefix(trimmed, "```") {
			fence = &codeBlock{lang: strings.TrimSpace(trimmed[3:]), line: n, section: section}
			fenceIndent = len(line) - len(trimmed)
			prose.WriteString("\n")
			continue
		}
		prose.WriteString(line + "\n")
		if m := headingLine.FindStringSubmatch(line); m != nil {
			h := heading{level: len(m[1]), text: m[2], slug: githubSlug(m[2])}
			if seen := slugs[h.slug]; seen > 0 {
				slugs[h.slug]++
				h.slug = fmt.Sprintf("%s-%d", h.slug, seen)
			} else {
				slugs[h.slug] = 1
			}
			d.headings = append(d.headings, h)
			if h.level <= 2 {
				section = h.text
			}
		}
		if strings.HasPrefix(trimmed, "|") {
			d.tables = append(d.tables, tableRow{cells: tableCells(trimmed), line: n})
		}
	}
	require.Nil(t, fence, "%s: a code block opened at line %d is never closed", file, lineOf(fence))

	text := prose.String()
	for _, m := range spanPattern.FindAllStringSubmatchIndex(text, -1) {
		span := strings.ReplaceAll(text[m[2]:m[3]], `\|`, "|")
		d.spans = append(d.spans, codeSpan{text: strings.Join(strings.Fields(span), " "), line: 1 + strings.Count(text[:m[0]], "\n")})
	}
	// Links inside code spans are code, not links.
	outsideCode := spanPattern.ReplaceAllStringFunc(text, func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '\n' {
				return r
			}
			return ' '
		}, s)
	})
	for _, m := range linkPattern.FindAllStringSubmatchIndex(outsideCode, -1) {
		d.links = append(d.links, mdLink{target: outsideCode[m[4]:m[5]], line: 1 + strings.Count(outsideCode[:m[0]], "\n")})
	}
	return d
}

func lineOf(b *codeBlock) int {
	if b == nil {
		return 0
	}
	return b.line
}

// tableCells splits a table row on the pipes that are not escaped.
func tableCells(row string) []string {
	row = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(row), "|"), "|"))
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(row); i++ {
		switch {
		case row[i] == '\\' && i+1 < len(row) && row[i+1] == '|':
			cell.WriteString(`\|`)
			i++
		case row[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(row[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

// githubSlug is the anchor GitHub gives a heading: its text as rendered,
// lower case, with every character but letters, digits, spaces, hyphens and
// underscores dropped, and spaces made hyphens.
func githubSlug(text string) string {
	text = linkPattern.ReplaceAllString(text, "$1")
	text = strings.NewReplacer("`", "", "*", "").Replace(text)
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

func parseDocs(t *testing.T) []*markdown {
	t.Helper()
	var docs []*markdown
	for _, f := range docFiles(t) {
		docs = append(docs, parseMarkdown(t, f))
	}
	return docs
}

func TestDocsLinksResolve(t *testing.T) {
	anchors := map[string][]string{} // by document, relative to the repository
	anchorsOf := func(file string) []string {
		if a, ok := anchors[file]; ok {
			return a
		}
		var slugs []string
		for _, h := range parseMarkdown(t, file).headings {
			slugs = append(slugs, h.slug)
		}
		anchors[file] = slugs
		return slugs
	}
	checked := 0
	for _, d := range parseDocs(t) {
		for _, l := range d.links {
			if u, err := url.Parse(l.target); err == nil && u.Scheme != "" {
				continue // the web, not the repository
			}
			checked++
			file, anchor, _ := strings.Cut(l.target, "#")
			target := d.file
			if file != "" {
				target = path.Clean(path.Join(path.Dir(d.file), file))
				if strings.HasPrefix(target, "../") {
					t.Errorf("%s: link %q leaves the repository", d.where(l.line), l.target)
					continue
				}
				if _, err := os.Stat(filepath.Join(repoRoot, target)); err != nil {
					t.Errorf("%s: link %q: no file %s", d.where(l.line), l.target, target)
					continue
				}
			}
			if anchor == "" {
				continue
			}
			if !strings.HasSuffix(target, ".md") {
				t.Errorf("%s: link %q: an anchor into %s, which is not Markdown", d.where(l.line), l.target, target)
				continue
			}
			if !slices.Contains(anchorsOf(target), anchor) {
				t.Errorf("%s: link %q: %s has no heading #%s (it has %v)", d.where(l.line), l.target, target, anchor, anchorsOf(target))
			}
		}
	}
	t.Logf("%d relative links", checked)
	require.NotZero(t, checked, "no relative links found: is the parser broken?")
}

// repoPath finds what looks like a path into the repository: one of its
// top-level folders, not inside a longer path or a URL, with or without ./.
var repoPath = regexp.MustCompile(`(?:^|[^A-Za-z0-9_./~$-])(?:\./)?((?:deploy|internal|server|proto|tools|backstage-plugin|store|gen|docs|cmd)/[A-Za-z0-9_.*/-]*)`)

// codeTexts are the code blocks and code spans of a document, where paths
// and commands are written.
func codeTexts(d *markdown) []codeSpan {
	var texts []codeSpan
	for _, b := range d.blocks {
		texts = append(texts, codeSpan{text: b.text, line: b.line})
	}
	return append(texts, d.spans...)
}

func TestDocsRepoPathsExist(t *testing.T) {
	checked := 0
	for _, d := range parseDocs(t) {
		for _, c := range codeTexts(d) {
			for _, m := range repoPath.FindAllStringSubmatch(c.text, -1) {
				p := strings.TrimRight(m[1], ".")
				checked++
				if strings.Contains(p, "*") {
					matches, err := filepath.Glob(filepath.Join(repoRoot, p))
					require.NoError(t, err)
					if len(matches) == 0 {
						t.Errorf("%s: %s matches nothing in the repository", d.where(c.line), p)
					}
					continue
				}
				if _, err := os.Stat(filepath.Join(repoRoot, p)); err != nil && !ignoredOutput(p) {
					t.Errorf("%s: %s is not in the repository", d.where(c.line), p)
				}
			}
		}
	}
	t.Logf("%d repository paths", checked)
	require.NotZero(t, checked, "no repository paths found: is the parser broken?")
}

// ignoredOutput says p is what a build or a test run writes, which the
// repository ignores (such as backstage-plugin/test-artifacts/): it exists
// only after the run, and a fresh clone has none.
func ignoredOutput(p string) bool {
	cmd := exec.Command("git", "check-ignore", "--quiet", "--no-index", p)
	cmd.Dir = repoRoot
	return cmd.Run() == nil
}

// makeTargets are the Makefile's targets.
func makeTargets(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "Makefile"))
	require.NoError(t, err)
	rule := regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9_.-]*(?:\s+[A-Za-z0-9][A-Za-z0-9_.-]*)*)\s*:(?:[^=]|$)`)
	targets := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		if m := rule.FindStringSubmatch(line); m != nil {
			for _, target := range strings.Fields(m[1]) {
				targets[target] = true
			}
		}
	}
	require.NotEmpty(t, targets)
	return targets
}

// commands are the command lines of a document: those of its shell blocks,
// and the code spans that are a command line themselves.
type docCommand struct {
	pipeline [][]string
	where    string
	section  string
	inline   bool
}

func commandsOf(t *testing.T, d *markdown) []docCommand {
	t.Helper()
	var cmds []docCommand
	for _, b := range d.blocks {
		if !b.shell() {
			continue
		}
		pipelines, err := shellWords(b.text)
		require.NoError(t, err, "%s: the block cannot be read as shell", d.where(b.line))
		for _, p := range pipelines {
			cmds = append(cmds, docCommand{pipeline: p.commands, where: d.where(b.line + p.line), section: b.section})
		}
	}
	for _, s := range d.spans {
		pipelines, err := shellWords(s.text)
		if err != nil || len(pipelines) != 1 || len(pipelines[0].commands[0]) < 2 {
			continue // not a command line, or a command's name alone
		}
		cmds = append(cmds, docCommand{pipeline: pipelines[0].commands, where: d.where(s.line), inline: true})
	}
	return cmds
}

func TestDocsMakeTargetsExist(t *testing.T) {
	targets := makeTargets(t)
	checked := 0
	for _, d := range parseDocs(t) {
		for _, c := range commandsOf(t, d) {
			for _, words := range c.pipeline {
				if len(words) < 2 || words[0] != "make" {
					continue
				}
				for _, target := range words[1:] {
					if strings.HasPrefix(target, "-") || strings.Contains(target, "=") {
						continue
					}
					checked++
					if !targets[target] {
						t.Errorf("%s: make %s: the Makefile has no target %q", c.where, target, target)
					}
				}
			}
		}
	}
	t.Logf("%d make targets named", checked)
	require.NotZero(t, checked, "no make commands found: is the parser broken?")
}

// testFuncs are the names of the tests, fuzz targets and benchmarks in a
// package's test files.
func testFuncs(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, dir, "*_test.go"))
	require.NoError(t, err)
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Benchmark|Example)\w*)\(`)
	var names []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range decl.FindAllStringSubmatch(string(raw), -1) {
			names = append(names, m[1])
		}
	}
	return names
}

func TestDocsGoTestCommandsNameTestsThatExist(t *testing.T) {
	checked := 0
	for _, d := range parseDocs(t) {
		for _, c := range commandsOf(t, d) {
			for _, words := range c.pipeline {
				if len(words) < 2 || words[0] != "go" || words[1] != "test" {
					continue
				}
				var pkgs []string
				patterns := map[string]string{}
				for i := 2; i < len(words); i++ {
					switch w := words[i]; {
					case strings.HasSuffix(w, "/..."):
						checked++
						if _, err := os.Stat(filepath.Join(repoRoot, strings.TrimSuffix(w, "/..."))); err != nil {
							t.Errorf("%s: go test %s: no such directory", c.where, w)
						}
					case strings.HasPrefix(w, "./"):
						pkgs = append(pkgs, strings.TrimPrefix(w, "./"))
					case (w == "-run" || w == "-fuzz" || w == "-bench") && i+1 < len(words):
						patterns[w] = words[i+1]
						i++
					}
				}
				if _, fuzz := patterns["-fuzz"]; fuzz {
					delete(patterns, "-run") // -run XXX: the fuzz target alone
				}
				for _, pkg := range pkgs {
					checked++
					names := testFuncs(t, pkg)
					if len(names) == 0 {
						t.Errorf("%s: go test ./%s: no tests there", c.where, pkg)
						continue
					}
					for flagName, pattern := range patterns {
						top, _, _ := strings.Cut(pattern, "/")
						re, err := regexp.Compile(top)
						if err != nil {
							t.Errorf("%s: go test %s %q: %v", c.where, flagName, pattern, err)
							continue
						}
						if !slices.ContainsFunc(names, re.MatchString) {
							t.Errorf("%s: go test ./%s %s %s matches no test there", c.where, pkg, flagName, pattern)
						}
					}
				}
			}
		}
	}
	t.Logf("%d go test packages", checked)
	require.NotZero(t, checked, "no go test commands found: is the parser broken?")
}

// cairnFlags are the flags of `cairn serve` and of each operator command,
// as their --help lists them.
type cairnFlags struct {
	serve    map[string]bool
	commands map[string]map[string]bool // by "group command"
	any      map[string]bool            // of every command, serve's included
}

func readCairnFlags(t *testing.T) cairnFlags {
	t.Helper()
	f := cairnFlags{serve: map[string]bool{}, commands: map[string]map[string]bool{}, any: map[string]bool{}}
	serveHelp := runCLI(t, testnet.FreeAddr(t), "docs-test-token", "serve", "--help")
	require.Equal(t, 0, serveHelp.code, serveHelp.stderr)
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(serveHelp.stdout+serveHelp.stderr, -1) {
		f.serve[m[1]], f.any[m[1]] = true, true
	}
	require.NotEmpty(t, f.serve)
	for _, group := range []string{"service", "promotion", "environment", "cost", "template", "deployment", "incident"} {
		groupHelp := runCLI(t, testnet.FreeAddr(t), "docs-test-token", group, "help")
		require.Equal(t, 0, groupHelp.code, groupHelp.stderr)
		_, list, _ := strings.Cut(groupHelp.stdout, "Commands:\n")
		for _, m := range regexp.MustCompile(`(?m)^  ([a-z]+) `).FindAllStringSubmatch(list, -1) {
			help := runCLI(t, testnet.FreeAddr(t), "docs-test-token", group, m[1], "--help")
			require.Equal(t, 0, help.code, help.stderr)
			flags := map[string]bool{}
			for _, fm := range regexp.MustCompile(`(?m)^\s+--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(help.stdout, -1) {
				flags[fm[1]], f.any[fm[1]] = true, true
			}
			f.commands[group+" "+m[1]] = flags
		}
	}
	require.Contains(t, f.commands, "service create")
	return f
}

var flagWord = regexp.MustCompile(`--([a-z][a-z0-9-]*)`)

func TestDocsCairnCommandsAndFlagsAreAccepted(t *testing.T) {
	flags := readCairnFlags(t)
	closed := testnet.FreeAddr(t) // nothing listens there: the operator commands' calls fail
	documented := map[string]bool{}
	ran := 0
	for _, d := range parseDocs(t) {
		for _, c := range codeTexts(d) {
			for _, m := range flagWord.FindAllStringSubmatch(c.text, -1) {
				documented[m[1]] = true
			}
		}
		// A settings table's first column: flags of cairn serve.
		for _, row := range d.tables {
			if m := regexp.MustCompile("^`--([a-z][a-z0-9-]*)`$").FindStringSubmatch(row.cells[0]); m != nil && !flags.serve[m[1]] {
				t.Errorf("%s: the settings table names --%s, which cairn serve does not take", d.where(row.line), m[1])
			}
		}
		for _, s := range d.spans {
			words := strings.Fields(s.text)
			switch {
			case strings.HasPrefix(s.text, "--"):
				if name := flagWord.FindStringSubmatch(words[0]); name == nil || !flags.any[name[1]] {
					t.Errorf("%s: %s is a flag of no cairn command", d.where(s.line), words[0])
				}
			case len(words) >= 2 && flags.commands[words[0]+" "+words[1]] != nil:
				// A synopsis, such as `service create NAME --owner TEAM [--bucket]`.
				for _, m := range flagWord.FindAllStringSubmatch(s.text, -1) {
					if !flags.commands[words[0]+" "+words[1]][m[1]] {
						t.Errorf("%s: cairn %s %s takes no --%s", d.where(s.line), words[0], words[1], m[1])
					}
				}
			}
		}
		for _, c := range commandsOf(t, d) {
			for _, words := range c.pipeline {
				if len(words) < 2 || words[0] != "cairn" {
					continue
				}
				args := words[1:]
				if c.inline {
					// `cairn service ...`: the words before the placeholder.
					if i := slices.IndexFunc(args, func(w string) bool {
						return strings.Contains(w, "...") || strings.ContainsAny(w, "[|")
					}); i >= 0 {
						args = args[:i]
					}
					if len(args) == 0 {
						continue
					}
				}
				ran++
				// --help after the line as shown: the command must exist and
				// take every flag before it.
				help := runCLI(t, closed, "docs-test-token", append(slices.Clone(args), "--help")...)
				if help.code != 0 || !strings.Contains(help.stdout+help.stderr, "Usage") {
					t.Errorf("%s: cairn %s: not a command with these flags (exit %d):\n%s%s", c.where, strings.Join(args, " "), help.code, help.stdout, help.stderr)
					continue
				}
				if args[0] == "serve" || args[0] == "migrate" || c.inline {
					continue
				}
				// As shown, against a port nothing listens on: the call
				// fails (exit 1), but a usage error, such as a missing
				// argument or required flag, exits 2.
				run := runCLI(t, closed, "docs-test-token", args...)
				if run.code == 2 {
					t.Errorf("%s: cairn %s: a usage error:\n%s", c.where, strings.Join(args, " "), run.stderr)
				}
			}
		}
	}
	t.Logf("%d cairn command lines", ran)
	require.NotZero(t, ran, "no cairn commands found: is the parser broken?")
	for name := range flags.serve {
		if !documented[name] {
			t.Errorf("cairn serve --%s is documented nowhere: add it to docs/configuration.md", name)
		}
	}
}

// route is one REST method of the OpenAPI document.
type route struct {
	method  string
	pattern *regexp.Regexp
	path    string
}

func openAPIRoutes(t *testing.T) []route {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "gen", "openapi", "cairn.swagger.json"))
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	param := regexp.MustCompile(`\{([^}]+)\}`)
	var routes []route
	for p, ops := range doc.Paths {
		for method, rawOp := range ops {
			var op struct {
				Parameters []struct{ Name, In, Pattern string } `json:"parameters"`
			}
			require.NoError(t, json.Unmarshal(rawOp, &op))
			patterns := map[string]string{}
			for _, prm := range op.Parameters {
				if prm.In == "path" && prm.Pattern != "" {
					patterns[prm.Name] = prm.Pattern
				}
			}
			var re strings.Builder
			last := 0
			for _, m := range param.FindAllStringSubmatchIndex(p, -1) {
				re.WriteString(regexp.QuoteMeta(p[last:m[0]]))
				segment := `[^/]+`
				if pat, ok := patterns[p[m[2]:m[3]]]; ok {
					segment = pat
				}
				re.WriteString("(?:" + segment + ")")
				last = m[1]
			}
			re.WriteString(regexp.QuoteMeta(p[last:]))
			routes = append(routes, route{method: strings.ToUpper(method), path: p, pattern: regexp.MustCompile("^" + re.String() + "$")})
		}
	}
	require.NotEmpty(t, routes)
	return routes
}

// placeholder is a {name} in a documented path.
var placeholder = regexp.MustCompile(`\{[^}]*\}`)

func hasRoute(routes []route, method, p string) bool {
	p = placeholder.ReplaceAllString(p, "placeholder")
	return slices.ContainsFunc(routes, func(r route) bool { return r.method == method && r.pattern.MatchString(p) })
}

// curlRequest is what a documented curl command asks for.
type curlRequest struct {
	method  string
	url     string
	headers http.Header
	body    string // "@file", "@-" or the data itself
	hasBody bool
}

func parseCurl(words []string) (curlRequest, error) {
	r := curlRequest{headers: http.Header{}}
	for i := 1; i < len(words); i++ {
		w := words[i]
		value := func() (string, error) {
			if i+1 >= len(words) {
				return "", fmt.Errorf("curl %s needs a value", w)
			}
			i++
			return words[i], nil
		}
		switch w {
		case "-X", "--request":
			v, err := value()
			if err != nil {
				return r, err
			}
			r.method = v
		case "-d", "--data", "--data-binary", "--data-raw":
			v, err := value()
			if err != nil {
				return r, err
			}
			r.body, r.hasBody = v, true
		case "-H", "--header":
			v, err := value()
			if err != nil {
				return r, err
			}
			name, val, _ := strings.Cut(v, ":")
			r.headers.Add(strings.TrimSpace(name), strings.TrimSpace(val))
		case "-s", "-S", "-sS", "-f", "--fail", "-i", "-v":
		default:
			if strings.HasPrefix(w, "-") {
				return r, fmt.Errorf("curl option %s is not one this test reads", w)
			}
			if r.url != "" {
				return r, fmt.Errorf("curl with two URLs: %s and %s", r.url, w)
			}
			r.url = w
		}
	}
	if r.method == "" {
		r.method = http.MethodGet
		if r.hasBody {
			r.method = http.MethodPost
		}
	}
	if r.url == "" {
		return r, fmt.Errorf("curl without a URL")
	}
	return r, nil
}

// cairnPath is the path a URL asks of Cairn's HTTP port, or "" for another
// host.
func cairnPath(rawURL string) string {
	rest, ok := strings.CutPrefix(strings.TrimPrefix(rawURL, "http://"), "localhost:8080")
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, "?")
	return p
}

// grpcMethod is a full gRPC method name, as grpcurl takes it.
var grpcMethod = regexp.MustCompile(`^([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)*\.[A-Z][A-Za-z0-9]*)/([A-Z][A-Za-z0-9]*)$`)

func methodDescriptor(name string) (protoreflect.MethodDescriptor, error) {
	m := grpcMethod.FindStringSubmatch(name)
	if m == nil {
		return nil, fmt.Errorf("%q is not a gRPC method name", name)
	}
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(m[1]))
	if err != nil {
		return nil, fmt.Errorf("no service %s: %w", m[1], err)
	}
	svc, ok := desc.(protoreflect.ServiceDescriptor)
	if !ok {
		return nil, fmt.Errorf("%s is not a service", m[1])
	}
	method := svc.Methods().ByName(protoreflect.Name(m[2]))
	if method == nil {
		return nil, fmt.Errorf("service %s has no method %s", m[1], m[2])
	}
	return method, nil
}

func TestDocsCallsNameMethodsOfTheAPI(t *testing.T) {
	routes := openAPIRoutes(t)
	restCall := regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) (/v1/\S+)$`)
	checked := 0
	for _, d := range parseDocs(t) {
		for _, s := range d.spans {
			if m := restCall.FindStringSubmatch(s.text); m != nil {
				checked++
				p, _, _ := strings.Cut(m[2], "?")
				if !hasRoute(routes, m[1], p) {
					t.Errorf("%s: %s %s is no method of gen/openapi/cairn.swagger.json", d.where(s.line), m[1], p)
				}
			}
			if grpcMethod.MatchString(s.text) {
				checked++
				if _, err := methodDescriptor(s.text); err != nil {
					t.Errorf("%s: %v", d.where(s.line), err)
				}
			}
		}
		for _, c := range commandsOf(t, d) {
			for _, words := range c.pipeline {
				switch {
				case len(words) > 0 && words[0] == "curl":
					r, err := parseCurl(words)
					if err != nil {
						t.Errorf("%s: %v", c.where, err)
						continue
					}
					p := cairnPath(r.url)
					if p == "" {
						continue
					}
					checked++
					if !strings.HasPrefix(p, "/v1/") {
						t.Errorf("%s: curl %s: not a path of the API", c.where, r.url)
					} else if !hasRoute(routes, r.method, p) {
						t.Errorf("%s: curl -X %s %s: no such method in gen/openapi/cairn.swagger.json", c.where, r.method, p)
					}
				case len(words) > 0 && words[0] == "grpcurl":
					for _, w := range words[1:] {
						if strings.Contains(w, "/") && !strings.ContainsAny(w, `{":`) {
							checked++
							if _, err := methodDescriptor(w); err != nil {
								t.Errorf("%s: grpcurl: %v", c.where, err)
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d REST and gRPC calls", checked)
	require.NotZero(t, checked, "no API calls found: is the parser broken?")
}

// TestDocsTourRuns runs the README's "Try it" against a real Cairn as
// `make run` serves it (no authentication, SQLite), on free ports: each
// curl must answer 2xx, each grpcurl call succeed.
func TestDocsTourRuns(t *testing.T) {
	readme := parseMarkdown(t, "README.md")
	var tour []docCommand
	for _, c := range commandsOf(t, readme) {
		if !c.inline && c.section == "Try it" {
			tour = append(tour, c)
		}
	}
	require.NotEmpty(t, tour, "the README has no Try it section with commands")

	p := launchCairn(t, "sqlite:"+filepath.Join(t.TempDir(), "cairn.db"), "--auth-mode", "none")
	p.waitHealth(t, healthpb.HealthCheckResponse_SERVING)
	conn, err := grpc.NewClient(p.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	run := &tourRun{p: p, conn: conn}
	for _, c := range tour {
		run.pipeline(t, c)
	}
	t.Logf("the tour: %d commands, %d REST calls", len(tour), run.curls)
	require.NotZero(t, run.curls, "the tour calls no REST method")
}

type tourRun struct {
	p     *cairnProcess
	conn  *grpc.ClientConn
	etag  string // of the last response that had one: `<etag from a read>`
	curls int
}

// substitute points the documented ports at the test's Cairn and fills in
// the placeholders the tour names.
func (r *tourRun) substitute(t *testing.T, where, w string) string {
	t.Helper()
	w = strings.ReplaceAll(w, "localhost:8080", r.p.httpAddr)
	w = strings.ReplaceAll(w, "localhost:9090", r.p.grpcAddr)
	if strings.Contains(w, "<etag from a read>") {
		require.NotEmpty(t, r.etag, "%s: the tour uses an etag before it reads one", where)
		w = strings.ReplaceAll(w, "<etag from a read>", url.QueryEscape(r.etag))
	}
	require.NotRegexp(t, `<[^>]+>`, w, "%s: a placeholder the test cannot fill", where)
	return w
}

func (r *tourRun) pipeline(t *testing.T, c docCommand) {
	t.Helper()
	var stdin []byte
	for i, words := range c.pipeline {
		for j := range words {
			words[j] = r.substitute(t, c.where, words[j])
		}
		last := i == len(c.pipeline)-1
		switch words[0] {
		case "jq":
			require.False(t, last, "%s: jq's output goes nowhere", c.where)
			stdin = jqWrap(t, c.where, words)
		case "curl":
			require.True(t, last, "%s: curl's output piped on", c.where)
			r.curl(t, c.where, words, stdin)
		case "grpcurl":
			require.True(t, last, "%s: grpcurl's output piped on", c.where)
			r.grpcurl(t, c.where, words)
		default:
			t.Fatalf("%s: the tour runs %s, which this test cannot run: keep the tour to curl, grpcurl and jq -Rs", c.where, words[0])
		}
	}
}

// jqWrap does what `jq -Rs '{field: .}' FILE` does: the file, raw, as the
// one string field of an object.
func jqWrap(t *testing.T, where string, words []string) []byte {
	t.Helper()
	require.Len(t, words, 4, "%s: only jq -Rs '{field: .}' FILE runs here", where)
	require.Equal(t, "-Rs", words[1], "%s: only jq -Rs '{field: .}' FILE runs here", where)
	m := regexp.MustCompile(`^\{\s*(\w+)\s*:\s*\.\s*\}$`).FindStringSubmatch(words[2])
	require.NotNil(t, m, "%s: only jq -Rs '{field: .}' FILE runs here, not %s", where, words[2])
	content, err := os.ReadFile(filepath.Join(repoRoot, words[3]))
	require.NoError(t, err, "%s", where)
	out, err := json.Marshal(map[string]string{m[1]: string(content)})
	require.NoError(t, err)
	return out
}

func (r *tourRun) curl(t *testing.T, where string, words []string, stdin []byte) {
	t.Helper()
	req, err := parseCurl(words)
	require.NoError(t, err, "%s", where)
	var body io.Reader
	if req.hasBody {
		data := []byte(req.body)
		switch {
		case req.body == "@-":
			data = stdin
		case strings.HasPrefix(req.body, "@"):
			data, err = os.ReadFile(filepath.Join(repoRoot, strings.TrimPrefix(req.body, "@")))
			require.NoError(t, err, "%s", where)
		}
		body = bytes.NewReader(data)
	}
	target := req.url
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	httpReq, err := http.NewRequest(req.method, target, body)
	require.NoError(t, err, "%s", where)
	httpReq.Header = req.headers
	if req.hasBody && httpReq.Header.Get("Content-Type") == "" {
		httpReq.Header.Set("Content-Type", "application/x-www-form-urlencoded") // as curl -d sends it
	}
	resp, err := http.DefaultClient.Do(httpReq)
	require.NoError(t, err, "%s", where)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.True(t, resp.StatusCode >= 200 && resp.StatusCode < 300, "%s: %s %s answered %d: %s", where, req.method, req.url, resp.StatusCode, raw)
	var answer map[string]any
	if json.Unmarshal(raw, &answer) == nil {
		if etag, ok := answer["etag"].(string); ok && etag != "" {
			r.etag = etag
		}
	}
	r.curls++
}

// grpcurl calls as grpcurl would, with the descriptors compiled into this
// test: `list` through server reflection, a method with -d's JSON.
func (r *tourRun) grpcurl(t *testing.T, where string, words []string) {
	t.Helper()
	data := "{}"
	var rest []string
	for i := 1; i < len(words); i++ {
		switch words[i] {
		case "-plaintext":
		case "-d":
			require.Less(t, i+1, len(words), "%s: -d without data", where)
			data = words[i+1]
			i++
		default:
			require.False(t, strings.HasPrefix(words[i], "-"), "%s: grpcurl option %s is not one this test runs", where, words[i])
			rest = append(rest, words[i])
		}
	}
	require.Len(t, rest, 2, "%s: grpcurl wants an address and a method or list", where)
	require.Equal(t, r.p.grpcAddr, rest[0], "%s: grpcurl calls another server", where)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if rest[1] == "list" {
		stream, err := reflectionpb.NewServerReflectionClient(r.conn).ServerReflectionInfo(ctx)
		require.NoError(t, err, "%s", where)
		require.NoError(t, stream.Send(&reflectionpb.ServerReflectionRequest{
			MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{},
		}))
		resp, err := stream.Recv()
		require.NoError(t, err, "%s", where)
		require.NotEmpty(t, resp.GetListServicesResponse().GetService(), "%s: reflection lists no services", where)
		return
	}
	method, err := methodDescriptor(rest[1])
	require.NoError(t, err, "%s", where)
	require.False(t, method.IsStreamingClient() || method.IsStreamingServer(), "%s: the tour's grpcurl calls are unary", where)
	in, out := dynamicpb.NewMessage(method.Input()), dynamicpb.NewMessage(method.Output())
	require.NoError(t, protojson.Unmarshal([]byte(data), in), "%s: -d", where)
	fullName := "/" + string(method.Parent().FullName()) + "/" + string(method.Name())
	require.NoError(t, r.conn.Invoke(ctx, fullName, in, out), "%s: %s", where, fullName)
}

// shellPipeline is one command line of a shell block: its commands,
// joined by pipes, each as the shell splits its words.
type shellPipeline struct {
	commands [][]string
	line     int // where it starts, from 1
}

// shellWords splits shell text into pipelines the way sh does, without
// expanding anything: quotes, backslashes and line continuations, comments,
// and |, ;, && and || between commands.
func shellWords(src string) ([]shellPipeline, error) {
	var (
		pipelines []shellPipeline
		current   shellPipeline
		command   []string
		word      strings.Builder
		inWord    bool
		line      = 1
	)
	endWord := func() {
		if inWord {
			command = append(command, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCommand := func() {
		endWord()
		if len(command) > 0 {
			current.commands = append(current.commands, command)
			command = nil
		}
	}
	endPipeline := func() {
		endCommand()
		if len(current.commands) > 0 {
			pipelines = append(pipelines, current)
		}
		current = shellPipeline{}
	}
	for i := 0; i < len(src); i++ {
		ch := src[i]
		if !inWord && len(command) == 0 && len(current.commands) == 0 && strings.IndexByte(" \t\n#|;&", ch) < 0 {
			current.line = line // a pipeline begins
		}
		switch {
		case ch == '\n':
			line++
			endPipeline()
		case ch == ' ' || ch == '\t':
			endWord()
		case ch == '#' && !inWord:
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case ch == '\\':
			if i+1 < len(src) && src[i+1] == '\n' {
				i++
				line++
				continue
			}
			if i+1 < len(src) {
				i++
				word.WriteByte(src[i])
				inWord = true
			}
		case ch == '\'':
			end := strings.IndexByte(src[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated '", line)
			}
			quoted := src[i+1 : i+1+end]
			line += strings.Count(quoted, "\n")
			word.WriteString(quoted)
			inWord = true
			i += end + 1
		case ch == '"':
			i++
			for ; i < len(src) && src[i] != '"'; i++ {
				if src[i] == '\\' && i+1 < len(src) && strings.IndexByte("\"\\$`\n", src[i+1]) >= 0 {
					i++
				}
				if src[i] == '\n' {
					line++
				}
				word.WriteByte(src[i])
			}
			if i >= len(src) {
				return nil, fmt.Errorf("line %d: unterminated \"", line)
			}
			inWord = true
		case ch == '|' || ch == ';' || ch == '&':
			if i+1 < len(src) && src[i+1] == ch && ch != ';' {
				i++ // || or &&: the next command, not a pipe
				endPipeline()
				continue
			}
			if ch == '|' {
				endCommand()
				continue
			}
			endPipeline()
		default:
			word.WriteByte(ch)
			inWord = true
		}
	}
	endPipeline()
	return pipelines, nil
}

func TestDocsShellWordsSplitAsShDoes(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want []shellPipeline
	}{
		{"words and a comment", "make run    # build and serve\n", []shellPipeline{{commands: [][]string{{"make", "run"}}, line: 1}}},
		{"a quote over lines", "curl -X POST x -d '{\n  \"a\": 1}'\n# out\ncurl y\n", []shellPipeline{
			{commands: [][]string{{"curl", "-X", "POST", "x", "-d", "{\n  \"a\": 1}"}}, line: 1},
			{commands: [][]string{{"curl", "y"}}, line: 4},
		}},
		{"a continued line", "cairn service create a \\\n  --bucket\n", []shellPipeline{{commands: [][]string{{"cairn", "service", "create", "a", "--bucket"}}, line: 1}}},
		{"a pipe, and quotes inside a word", "printf %s \"$t\" | cut -d' ' -f1", []shellPipeline{{commands: [][]string{{"printf", "%s", "$t"}, {"cut", "-d ", "-f1"}}, line: 1}}},
		{"commands after && and ;", "a && b; c", []shellPipeline{
			{commands: [][]string{{"a"}}, line: 1}, {commands: [][]string{{"b"}}, line: 1}, {commands: [][]string{{"c"}}, line: 1},
		}},
		{"a # inside a word", "curl 'x?a=1#frag' b#c", []shellPipeline{{commands: [][]string{{"curl", "x?a=1#frag", "b#c"}}, line: 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := shellWords(tc.src)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := shellWords("echo 'open")
	require.Error(t, err)
}

func TestDocsAnchorsAreGitHubs(t *testing.T) {
	for heading, want := range map[string]string{
		"Deploying to Kubernetes":              "deploying-to-kubernetes",
		"Names and ids are scoped":             "names-and-ids-are-scoped",
		"The `cairn` command, v2 (beta)!":      "the-cairn-command-v2-beta",
		"[Security](docs/security.md) and TLS": "security-and-tls",
		"snake_case and **bold** stay":         "snake_case-and-bold-stay",
		"Time to first deploy: p50 / p95":      "time-to-first-deploy-p50--p95",
	} {
		require.Equal(t, want, githubSlug(heading), heading)
	}
}
