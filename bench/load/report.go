package main

import (
	"bufio"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// mirrorName is the server every ratio is about; firstOthers are the ones
// it is divided by, in the order the report shows them, before any other
// server results.tsv holds (such as baselineName).
const mirrorName = "mirror"

var firstOthers = []string{"proxy_store", "proxy_cache"}

// baselineName is the minimal Go proxy_store (load gostore, BASELINE=1):
// when present, the report also divides it by proxy_store.
const baselineName = "go_store"

// errAbbrev names a server in the errors column's header.
var errAbbrev = map[string]string{mirrorName: "m", "proxy_store": "s", "proxy_cache": "c"}

// table is a TSV file read whole: its header and rows as name → value.
type table struct {
	rows []map[string]string
}

// readTSV reads a TSV file with a header line, so that the report depends
// on column names rather than positions.
func readTSV(path string) (*table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var head []string
	t := &table{}
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if head == nil {
			head = fields
			continue
		}
		row := map[string]string{}
		for i, h := range head {
			if i < len(fields) {
				row[h] = fields[i]
			}
		}
		t.rows = append(t.rows, row)
	}
	return t, sc.Err()
}

// num reads a numeric column, NaN when it is missing or not a number, so
// that a broken run shows as n/a instead of as zero.
func num(row map[string]string, col string) float64 {
	v, err := strconv.ParseFloat(row[col], 64)
	if err != nil {
		return nan
	}
	return v
}

var nan = math.NaN()

// report prints the markdown report of the kept rounds: per workload the
// medians of each server and the ratios mirror ÷ other with their min,
// median and max over rounds.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	resultsPath := fs.String("results", "", "results.tsv")
	roundsPath := fs.String("rounds", "", "rounds.tsv")
	fs.Parse(args)
	res, err := readTSV(*resultsPath)
	if err != nil {
		return err
	}
	rounds, err := readTSV(*roundsPath)
	if err != nil {
		return err
	}
	kept := map[string]bool{}
	discarded := 0
	for _, r := range rounds.rows {
		if r["status"] == "kept" {
			kept[r["attempt"]] = true
		} else {
			discarded++
		}
	}
	// runs[workload][server][attempt] = row, workloads in first-seen order.
	runs := map[string]map[string]map[string]map[string]string{}
	var workloads []string
	var attempts []string
	for _, r := range res.rows {
		if !kept[r["attempt"]] {
			continue
		}
		w := r["workload"]
		if runs[w] == nil {
			runs[w] = map[string]map[string]map[string]string{}
			workloads = append(workloads, w)
		}
		if runs[w][r["server"]] == nil {
			runs[w][r["server"]] = map[string]map[string]string{}
		}
		runs[w][r["server"]][r["attempt"]] = r
		if !slices.Contains(attempts, r["attempt"]) {
			attempts = append(attempts, r["attempt"])
		}
	}
	// others: firstOthers, then every other server results.tsv holds.
	others := slices.Clone(firstOthers)
	for _, r := range res.rows {
		if s := r["server"]; s != mirrorName && !slices.Contains(others, s) {
			others = append(others, s)
		}
	}
	fmt.Printf("%d rounds kept, %d discarded and rerun (floors over 2× their quiet values).\n\n", len(kept), discarded)

	// median of a column over the kept rounds of one server.
	median := func(w, server, col string) float64 {
		var v []float64
		for _, row := range runs[w][server] {
			if x := num(row, col); !isNaN(x) {
				v = append(v, x)
			}
		}
		return med(v)
	}
	// ratiosOf a column, server ÷ other, per kept round.
	ratiosOf := func(w, server, other, col string) string {
		var v []float64
		for _, a := range attempts {
			m, o := runs[w][server][a], runs[w][other][a]
			if m == nil || o == nil {
				continue
			}
			if x, y := num(m, col), num(o, col); !isNaN(x) && !isNaN(y) && y != 0 {
				v = append(v, x/y)
			}
		}
		if len(v) == 0 {
			return "n/a"
		}
		slices.Sort(v)
		return fmt.Sprintf("%s / **%s** / %s", f3(v[0]), f3(med(v)), f3(v[len(v)-1]))
	}
	// ratios of a column, mirror ÷ other, per kept round.
	ratios := func(w, other, col string) string { return ratiosOf(w, mirrorName, other, col) }
	errs := func(w string) string {
		var parts []string
		for _, s := range append([]string{mirrorName}, others...) {
			n := 0.0
			for _, row := range runs[w][s] {
				if x := num(row, "errors"); !isNaN(x) {
					n += x
				}
			}
			parts = append(parts, strconv.Itoa(int(n)))
		}
		return strings.Join(parts, " / ")
	}

	// printTable prints one table: per workload the cell of every server, then
	// the ratios mirror ÷ other of col, then the extra column if any.
	printTable := func(extraHead string, cell func(w, s string) string, col string, extra func(w string) string) {
		head := []string{"workload", mirrorName}
		var ratioHead []string
		for _, o := range others {
			head = append(head, o)
			ratioHead = append(ratioHead, mirrorName+" ÷ "+o)
		}
		head = append(head, ratioHead...)
		sep := "|---|" + strings.Repeat("---:|", 1+len(others)) + strings.Repeat("---|", len(others))
		if extra != nil {
			head = append(head, extraHead)
			sep += "---|"
		}
		fmt.Println("| " + strings.Join(head, " | ") + " |")
		fmt.Println(sep)
		for _, w := range workloads {
			cells := []string{w, cell(w, mirrorName)}
			for _, o := range others {
				cells = append(cells, cell(w, o))
			}
			for _, o := range others {
				cells = append(cells, ratios(w, o, col))
			}
			if extra != nil {
				cells = append(cells, extra(w))
			}
			fmt.Println("| " + strings.Join(cells, " | ") + " |")
		}
		fmt.Println()
	}
	var abbrevs []string
	for _, s := range append([]string{mirrorName}, others...) {
		if a, ok := errAbbrev[s]; ok {
			abbrevs = append(abbrevs, a)
		} else {
			abbrevs = append(abbrevs, s[:1])
		}
	}

	fmt.Println("### Throughput (payload MB/s, median over rounds; ratio mirror ÷ other min / **median** / max: above 1, mirror is faster)")
	fmt.Println()
	printTable("errors "+strings.Join(abbrevs, " / "), func(w, s string) string { return f1(median(w, s, "mb_s")) }, "mb_s", errs)
	for _, p := range []string{"p50", "p99"} {
		col := p + "_ms"
		fmt.Printf("### Latency %s (ms, median over rounds; ratio mirror ÷ other: below 1, mirror is faster)\n\n", p)
		printTable("", func(w, s string) string { return f2(median(w, s, col)) }, col, nil)
	}
	fmt.Println("### Peak memory (MiB, the peak over the run of the sum of RSS over the server's processes, median over rounds; ratio: below 1, mirror uses less; PSS, which counts pages nginx's processes share once, in parentheses)")
	fmt.Println()
	printTable("", func(w, s string) string {
		return fmt.Sprintf("%s (%s)", f1(median(w, s, "rss_mib")), f1(median(w, s, "pss_mib")))
	}, "rss_mib", nil)
	if slices.Contains(others, baselineName) {
		fmt.Println("### go_store ÷ nginx (what a minimal Go proxy_store reaches on this machine)")
		fmt.Println()
		fmt.Println("go_store is the floor of a Go implementation (net/http, sendfile on hits, no fsync, no MD5): a target for mirror ÷ proxy_store above go_store ÷ proxy_store is beyond what Go's net/http reaches here. Ratios per round, min / **median** / max.")
		fmt.Println()
		fmt.Println("| workload | throughput go_store ÷ proxy_store (above 1: faster) | p99 latency go_store ÷ proxy_store (below 1: faster) |")
		fmt.Println("|---|---|---|")
		for _, w := range workloads {
			fmt.Printf("| %s | %s | %s |\n", w, ratiosOf(w, baselineName, "proxy_store", "mb_s"), ratiosOf(w, baselineName, "proxy_store", "p99_ms"))
		}
		fmt.Println()
	}
	for _, w := range workloads {
		if !strings.HasPrefix(w, "stampede") {
			continue
		}
		fmt.Printf("### %s: one cold key, every client at once (medians over rounds; origin requests per round)\n\n", w)
		fmt.Println("| server | p50 ms | p99 ms | max ms | origin requests | errors | peak RSS MiB |")
		fmt.Println("|---|---:|---:|---:|---|---:|---:|")
		for _, s := range append([]string{mirrorName}, others...) {
			var origin []string
			nerr := 0.0
			for _, a := range attempts {
				if row := runs[w][s][a]; row != nil {
					origin = append(origin, row["origin_reqs"])
					nerr += num(row, "errors")
				}
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %d | %s |\n", s, f2(median(w, s, "p50_ms")), f2(median(w, s, "p99_ms")),
				f2(median(w, s, "max_ms")), strings.Join(origin, ", "), int(nerr), f1(median(w, s, "rss_mib")))
		}
		fmt.Println()
	}
	fmt.Println("### Floors per round (median durable 4 KiB commit in ms, MD5 MB/s: before / after the round, and the quiet values at the end)")
	fmt.Println()
	fmt.Println("| attempt | round | started | status | commit ms | MD5 MB/s | quiet |")
	fmt.Println("|---:|---:|---|---|---|---|---|")
	for _, r := range rounds.rows {
		fmt.Printf("| %s | %s | %s | %s | %s / %s | %s / %s | %s ms, %s MB/s |\n", r["attempt"], r["round"], r["started"],
			r["status"], r["commit_ms_before"], r["commit_ms_after"], r["md5_before"], r["md5_after"],
			r["quiet_commit_ms"], r["quiet_md5"])
	}
	lateQuiet(rounds)
	return nil
}

// isNaN says whether x is the missing value.
func isNaN(x float64) bool { return math.IsNaN(x) }

// med is the median of v (sorted here), NaN for none.
func med(v []float64) float64 {
	if len(v) == 0 {
		return nan
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// f1 formats a value with one decimal for a table cell, n/a when missing.
func f1(x float64) string {
	if isNaN(x) {
		return "n/a"
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

// f2 formats a latency with two decimals, n/a when missing.
func f2(x float64) string {
	if isNaN(x) {
		return "n/a"
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// f3 formats a ratio with three significant digits, n/a when missing.
func f3(x float64) string {
	if isNaN(x) {
		return "n/a"
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// lateQuiet says which kept rounds the final quiet values would have
// discarded: a round is judged by the best floors seen before its end, and
// a machine that was busy from the start sets a lax bar for the first
// rounds.
func lateQuiet(rounds *table) {
	bestC, bestM := nan, nan
	for _, r := range rounds.rows {
		for _, c := range []string{"commit_ms_before", "commit_ms_after", "quiet_commit_ms"} {
			if x := num(r, c); !isNaN(x) && (isNaN(bestC) || x < bestC) {
				bestC = x
			}
		}
		for _, c := range []string{"md5_before", "md5_after", "quiet_md5"} {
			if x := num(r, c); !isNaN(x) && (isNaN(bestM) || x > bestM) {
				bestM = x
			}
		}
	}
	var late []string
	for _, r := range rounds.rows {
		if r["status"] != "kept" {
			continue
		}
		worstC := max(num(r, "commit_ms_before"), num(r, "commit_ms_after"))
		worstM := min(num(r, "md5_before"), num(r, "md5_after"))
		if worstC > 2*bestC || worstM < bestM/2 {
			late = append(late, r["round"])
		}
	}
	fmt.Printf("\nQuiet values at the end: commit %s ms, MD5 %s MB/s.", f3(bestC), f1(bestM))
	if len(late) > 0 {
		fmt.Printf(" Kept rounds whose floors are over 2× these (judged against the quieter machine seen later): %s.", strings.Join(late, ", "))
	}
	fmt.Println()
}
