// Command mirror evaluates and checks mirror back-to-origin rule
// documents, and runs a mirror gateway.
//
//	mirror eval  -rules FILE [-format FORMAT] [-allow-private-origins] < requests.jsonl
//	mirror check -rules FILE [-format FORMAT] [-allow-private-origins] [-json]
//	mirror explain -rules FILE [-query Q] [-H 'Name: value']... [-json] KEY
//	mirror lint -rules FILE [-json]
//	mirror convert -from FORMAT -rules FILE -to FORMAT [-allow-private-origins]
//	mirror serve -data DIR [-listen ADDR] [-bucket NAME=FILE]... [flags]
//	mirror purge (-data DIR|s3://BUCKET[/PREFIX] | -url GATEWAY) -bucket B (-prefix P | -all | KEY...)
//	mirror warm -bucket B (-data DIR|-url URL) [-keys FILE|-] [-from-log FILE] [flags]
//	mirror version
//
// eval reads one JSON request per line, {"key": "...", "query": "...",
// "headers": {"Name": ["v"]}}, and writes one JSON decision per line.
// check prints the rules as the engine compiled them, one line each, or as
// JSON. explain tells why KEY goes where it goes: every rule's verdict,
// how the origin key is built, what becomes of each query piece and
// header, and the decision. lint prints warnings about rules that can
// never act, options that do nothing and risky ones, one "PATH: message"
// line each, with exit status 1 when there are any. -rules - reads the document from standard input (for eval, the
// requests follow it there). A document that does not compile gives every
// problem on standard error, one per line, and exit status 2. serve runs
// the gateway of docs/SERVING.md until SIGINT or SIGTERM. warm pulls a
// list of keys into a gateway's store ahead of their first reader
// (docs/SERVING.md §6).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mirrorkit/mirror"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: mirror <command> [flags]

commands:
  eval   -rules FILE [-format FORMAT] [-allow-private-origins] < requests.jsonl
         decide each request (one JSON object per line) and print one decision per line
  check  -rules FILE [-format FORMAT] [-allow-private-origins] [-json]
         validate a document and print its rules
  explain -rules FILE [-query Q] [-H 'Name: value']... [-json] KEY
         tell why a key goes where it goes, step by step
  lint   -rules FILE [-json]
         warn about rules no key can reach and options that do nothing or are risky;
         exit status 1 when there are warnings
  convert -from FORMAT -rules FILE -to FORMAT [-allow-private-origins]
         write the document in another format that decides every request as it does;
         what that format can not say is an error naming each rule and field
  serve  -data DIR [-listen ADDR] [-bucket NAME=FILE]... [flags]
         run a mirror gateway: serve stored objects, fetch missing ones from their origins
  purge  (-data DIR|s3://BUCKET[/PREFIX] | -url GATEWAY) -bucket B (-prefix P | -all | KEY...)
         remove stored objects, so that the next GET pulls them again
  warm   -bucket B (-data DIR|-url URL) [-keys FILE|-] [-from-log FILE] [flags]
         pull keys into the store ahead of their readers, as misses would; resumable
  version
         print the module version, the VCS revision and the Go version of this binary (also: -version)

-rules - reads the document from standard input.
Run "mirror <command> -h" for a command's flags.
`

// command is one subcommand: its flags are set up by flags, and run does
// the work once they are parsed.
type command struct {
	name  string
	flags func(fs *flag.FlagSet) func(env *env) int
}

var commands = []command{
	{"eval", evalFlags},
	{"check", checkFlags},
	{"explain", explainFlags},
	{"lint", lintFlags},
	{"convert", convertFlags}, // convert.go
	{"serve", serveFlags},
	{"purge", purgeFlags}, // purge.go
	{"warm", warmFlags},
	{"version", versionFlags},
}

// env is what a command runs with.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	args           []string // what is left after the flags
}

// errorf writes "mirror: ..." on standard error.
func (e *env) errorf(format string, args ...any) {
	fmt.Fprintf(e.stderr, "mirror: "+format+"\n", args...)
}

// run is the whole command; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "-version", "--version":
		args = []string{"version"}
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet("mirror "+c.name, flag.ContinueOnError)
		fs.SetOutput(io.Discard) // the messages are written below, prefixed
		fs.Usage = func() {}
		do := c.flags(fs)
		usage := func(w io.Writer) {
			fmt.Fprintf(w, "usage of mirror %s:\n", c.name)
			fs.SetOutput(w)
			fs.PrintDefaults()
		}
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				usage(stdout)
				return 0
			}
			e.errorf("%v", err)
			usage(stderr)
			return 2
		}
		e.args = fs.Args()
		return do(e)
	}
	e.errorf("unknown command %q", args[0])
	fmt.Fprint(stderr, usage)
	return 2
}

// ruleFlags are the flags every command that reads a document has.
type ruleFlags struct {
	rules, format string
	allowPrivate  bool
}

func addRuleFlags(fs *flag.FlagSet) *ruleFlags {
	f := &ruleFlags{}
	fs.StringVar(&f.rules, "rules", "", "the rules `document` (JSON); - reads it from standard input")
	fs.StringVar(&f.format, "format", "auto", "document `format`: auto, bos, qingstor, native, oss, cos, s3, obs or tos")
	fs.BoolVar(&f.allowPrivate, "allow-private-origins", false, "allow loopback, private and other non-routable origins")
	return f
}

// load reads and compiles the document. With -rules -, the document is
// the first JSON value on standard input, and rest is what follows it;
// otherwise rest is standard input. On failure it has written why and
// returns ok false.
func (f *ruleFlags) load(e *env) (eng *mirror.Engine, rest io.Reader, ok bool) {
	if f.rules == "" {
		e.errorf("-rules is required")
		return nil, nil, false
	}
	if len(e.args) > 0 {
		e.errorf("unexpected argument %q", e.args[0])
		return nil, nil, false
	}
	var data []byte
	var err error
	rest = e.stdin
	if f.rules == "-" {
		data, rest, err = readValue(e.stdin)
	} else {
		data, err = os.ReadFile(f.rules)
	}
	if err != nil {
		e.errorf("%v", err)
		return nil, nil, false
	}
	c := mirror.Compiler{AllowPrivateOrigins: f.allowPrivate}
	eng, err = c.Load(data, mirror.Format(f.format))
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			e.errorf("%s", line)
		}
		return nil, nil, false
	}
	return eng, rest, true
}

// writeIndented writes v as indented JSON, without HTML escapes: the -json
// output of check, explain and lint.
func writeIndented(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
