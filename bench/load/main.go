// Command load is the load client and the bookkeeper of bench/vs-nginx.sh:
// it fetches cold keys with N concurrent clients, runs a stampede on one
// cold key, samples the resident memory of a server's processes, measures
// the machine's floors (a durable 4 KiB commit, MD5 throughput), picks free
// loopback ports and prints the report from the raw per-round numbers; and
// it is go_store, the minimal Go proxy_store the script can run beside them.
// Standard library only, so that the benchmark builds wherever the module
// does.
//
//	load ports -n 3
//	load cold -base URL -origin DIR -src FILE -prefix P -clients N -count C -duration D
//	load stampede -url URL -origin DIR -src FILE -key K -clients 500
//	load rss -pids 1,2
//	load floor -dir DIR
//	load report -results results.tsv -rounds rounds.tsv
//	load gostore -listen ADDR -root DIR -origin URL
//
// Every measuring subcommand prints one line of key=value pairs on
// standard output, which the script turns into a row of results.tsv.
package main

import (
	"bufio"
	"crypto/md5"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// main dispatches to the subcommands, so that one binary serves the whole
// script.
func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: load ports|cold|stampede|rss|floor|report|gostore [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"ports": ports, "cold": cold, "stampede": stampede,
		"rss": rss, "floor": floor, "report": report, "gostore": gostore,
	}
	run, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "load: unknown subcommand %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "load %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// ports prints n distinct free loopback ports, holding them all open until
// every one is picked so that no two are the same.
func ports(args []string) error {
	fs := flag.NewFlagSet("ports", flag.ExitOnError)
	n := fs.Int("n", 1, "how many ports")
	fs.Parse(args)
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for range *n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		held = append(held, l)
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

// linkKeys makes origin/key a hard link of src for every key, so that the
// origin has a distinct name for each cold request while serving the same
// bytes from the page cache (the origin is not what is measured).
func linkKeys(origin, src string, keys []string) error {
	for _, k := range keys {
		p := filepath.Join(origin, filepath.FromSlash(k))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.Link(src, p); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	return nil
}

// newTransport is the client side of every run: no proxy, no compression,
// large reads, at most one idle connection per client so that each client
// keeps its own connection.
func newTransport(clients int, keepAlive bool) *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DisableCompression:  true,
		DisableKeepAlives:   !keepAlive,
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		ReadBufferSize:      64 << 10,
		WriteBufferSize:     4 << 10,
		IdleConnTimeout:     time.Minute,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
	}
}

// get reads url's answer whole, through buf, and says how long it took; any
// answer but a 200 of exactly size bytes is an error, so a server that
// answers fast and wrong does not look fast.
func get(c *http.Client, url string, size int64, buf []byte) (time.Duration, error) {
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		return time.Since(start), err
	}
	defer resp.Body.Close()
	var n int64
	for {
		m, err := resp.Body.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return time.Since(start), fmt.Errorf("body after %d bytes: %w", n, err)
		}
	}
	d := time.Since(start)
	if resp.StatusCode != http.StatusOK {
		return d, fmt.Errorf("status %d", resp.StatusCode)
	}
	if size >= 0 && n != size {
		return d, fmt.Errorf("got %d bytes, want %d", n, size)
	}
	return d, nil
}

// result is what one run measured, printed as the key=value line the
// script records.
type result struct {
	requests, errors int
	elapsed          time.Duration
	size             int64
	lat              []time.Duration
	firstErr         error
}

// print writes the run's line: throughput counts payload bytes of
// successful requests (MB = 10^6 bytes), latencies every request.
func (r *result) print() {
	slices.Sort(r.lat)
	ok := r.requests - r.errors
	secs := r.elapsed.Seconds()
	fmt.Printf("requests=%d errors=%d seconds=%.3f req_s=%.2f mb_s=%.2f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f\n",
		r.requests, r.errors, secs, float64(ok)/secs, float64(ok)*float64(r.size)/secs/1e6,
		ms(pct(r.lat, 50)), ms(pct(r.lat, 99)), ms(pct(r.lat, 100)))
	if r.firstErr != nil {
		fmt.Fprintf(os.Stderr, "load: %d of %d requests failed, first: %v\n", r.errors, r.requests, r.firstErr)
	}
}

// pct is the nearest-rank percentile of sorted durations, 0 for none.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ms turns a duration into fractional milliseconds for the report.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// cold runs N clients over distinct keys nobody fetched before: each key
// is fetched once, by one client, so every request is a miss that goes to
// the origin. The run ends when the keys run out or, after -duration, when
// the running requests end.
func cold(args []string) error {
	fs := flag.NewFlagSet("cold", flag.ExitOnError)
	base := fs.String("base", "", "URL prefix the key is appended to")
	origin := fs.String("origin", "", "the origin's document root, where the keys are linked")
	src := fs.String("src", "", "the generated file every key links to")
	prefix := fs.String("prefix", "", "key prefix unique to this run (a directory under -origin)")
	clients := fs.Int("clients", 1, "concurrent clients")
	count := fs.Int("count", 10, "keys per client at most")
	duration := fs.Duration("duration", 5*time.Second, "start no request after this long")
	fs.Parse(args)
	st, err := os.Stat(*src)
	if err != nil {
		return err
	}
	keys := make([]string, *clients**count)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s/k%06d", *prefix, i)
	}
	if err := linkKeys(*origin, *src, keys); err != nil {
		return err
	}
	client := &http.Client{Transport: newTransport(*clients, true)}
	var (
		next atomic.Int64
		mu   sync.Mutex
		res  = result{size: st.Size()}
		wg   sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(*duration)
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(len(keys)) {
					return
				}
				d, err := get(client, *base+keys[i], st.Size(), buf)
				mu.Lock()
				res.requests++
				res.lat = append(res.lat, d)
				if err != nil {
					res.errors++
					if res.firstErr == nil {
						res.firstErr = fmt.Errorf("%s: %w", keys[i], err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.print()
	return nil
}

// stampede sends N clients at one cold key at the same moment, as a crowd
// does when a popular object expires: every client dials its connection
// first, and only when all are connected do they all write their request,
// so the server sees the N requests within a few milliseconds instead of
// spread over the time N dials take. Latency runs from that moment to the
// last body byte.
func stampede(args []string) error {
	fs := flag.NewFlagSet("stampede", flag.ExitOnError)
	rawURL := fs.String("url", "", "the key's URL on the server")
	origin := fs.String("origin", "", "the origin's document root")
	src := fs.String("src", "", "the generated file the key links to")
	key := fs.String("key", "", "the key's path under -origin")
	clients := fs.Int("clients", 500, "concurrent clients")
	fs.Parse(args)
	st, err := os.Stat(*src)
	if err != nil {
		return err
	}
	if err := linkKeys(*origin, *src, []string{*key}); err != nil {
		return err
	}
	u, err := url.Parse(*rawURL)
	if err != nil {
		return err
	}
	wire := []byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: bench-load\r\nConnection: close\r\n\r\n")
	var (
		mu      sync.Mutex
		res     = result{size: st.Size()}
		dialed  sync.WaitGroup
		wg      sync.WaitGroup
		dialErr atomic.Value
	)
	gate := make(chan struct{})
	var start time.Time
	for range *clients {
		wg.Add(1)
		dialed.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
			dialed.Done()
			if err != nil {
				dialErr.CompareAndSwap(nil, err)
				return
			}
			defer conn.Close()
			<-gate
			conn.SetDeadline(time.Now().Add(5 * time.Minute))
			err = readOne(conn, wire, st.Size())
			d := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			res.requests++
			res.lat = append(res.lat, d)
			if err != nil {
				res.errors++
				if res.firstErr == nil {
					res.firstErr = err
				}
			}
		}()
	}
	dialed.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		close(gate)
		wg.Wait()
		return fmt.Errorf("dial: %w", err)
	}
	time.Sleep(20 * time.Millisecond) // every goroutine waits at the gate
	start = time.Now()
	close(gate)
	wg.Wait()
	res.elapsed = time.Since(start)
	res.print()
	return nil
}

// readOne writes one request on conn and reads its answer whole; like get,
// anything but a 200 of exactly size bytes is an error.
func readOne(conn net.Conn, wire []byte, size int64) error {
	if _, err := conn.Write(wire); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 64<<10), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		return fmt.Errorf("body after %d bytes: %w", n, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if n != size {
		return fmt.Errorf("got %d bytes, want %d", n, size)
	}
	return nil
}

// rss samples the resident memory of the given processes and all their
// descendants (nginx's master and workers) until SIGTERM or SIGINT, then
// prints the peak of the sum: RSS as the kernel counts it per process, and
// PSS, which splits shared pages (nginx's shared memory zones, its
// binary) among the processes sharing them instead of counting them in
// each.
func rss(args []string) error {
	fs := flag.NewFlagSet("rss", flag.ExitOnError)
	pidList := fs.String("pids", "", "comma-separated root process ids")
	interval := fs.Duration("interval", 20*time.Millisecond, "sampling interval")
	fs.Parse(args)
	var roots []int
	for _, s := range strings.Split(*pidList, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-pids: %v", err)
		}
		roots = append(roots, p)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	page := int64(os.Getpagesize())
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	var peakRSS, peakPSS int64
	var samples int
	pids := descendants(roots)
	lastScan := time.Now()
	for {
		if time.Since(lastScan) > 250*time.Millisecond {
			pids, lastScan = descendants(roots), time.Now()
		}
		var sumRSS, sumPSS int64
		for _, p := range pids {
			sumRSS += statmRSS(p) * page
			sumPSS += smapsPSS(p)
		}
		peakRSS, peakPSS = max(peakRSS, sumRSS), max(peakPSS, sumPSS)
		samples++
		select {
		case <-stop:
			fmt.Printf("rss_mib=%.1f pss_mib=%.1f samples=%d pids=%d\n",
				float64(peakRSS)/(1<<20), float64(peakPSS)/(1<<20), samples, len(pids))
			return nil
		case <-tick.C:
		}
	}
}

// descendants lists the roots and every process whose parent chain leads
// to one, from /proc, since this kernel has no /proc/PID/task/TID/children.
func descendants(roots []int) []int {
	parent := map[int]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 {
				ppid, _ := strconv.Atoi(f[1])
				parent[pid] = ppid
			}
		}
	}
	in := map[int]bool{}
	for _, r := range roots {
		in[r] = true
	}
	var out []int
	for pid := range parent {
		for p, hops := pid, 0; p > 1 && hops < 64; p, hops = parent[p], hops+1 {
			if in[p] {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// statmRSS is a process's resident pages (statm's second field, the
// VmRSS of /proc/PID/status), 0 once it is gone.
func statmRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.ParseInt(f[1], 10, 64)
	return n
}

// smapsPSS is a process's proportional set size in bytes, 0 when unknown.
func smapsPSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Pss:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// floor measures what the machine can do right now, beneath any server: a
// durable 4 KiB commit (write a temporary file, fsync, rename, fsync the
// directory: what mirror's store does per object) and MD5 over 64 MiB in
// memory (what mirror computes per byte). A round whose floors are far off
// their quiet values ran on a busy machine.
func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	dir := fs.String("dir", "", "a directory on the disk under test")
	n := fs.Int("n", 50, "commits; the median is reported")
	size := fs.Int("commit-bytes", 4096, "bytes of each durable commit (the script's floor is 4 KiB; 1 MiB and 64 MiB give the floor of a durable miss of that size)")
	mib := fs.Int("md5-mib", 64, "MiB hashed per MD5 pass (3 passes, median)")
	fs.Parse(args)
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	data := make([]byte, *size)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	var commits []time.Duration
	for i := range *n {
		d, err := durableCommit(*dir, fmt.Sprintf("obj-%d", i), data)
		if err != nil {
			return err
		}
		commits = append(commits, d)
	}
	big := make([]byte, *mib<<20)
	r := rand.NewChaCha8([32]byte{1})
	r.Read(big)
	var rates []float64
	for range 3 {
		start := time.Now()
		md5.Sum(big)
		rates = append(rates, float64(len(big))/time.Since(start).Seconds()/1e6)
	}
	slices.Sort(commits)
	slices.Sort(rates)
	fmt.Printf("commit_ms=%.3f md5_mb_s=%.1f\n", ms(pct(commits, 50)), rates[1])
	return nil
}

// durableCommit writes one small object the way a durable store must, and
// says how long it took.
func durableCommit(dir, name string, data []byte) (time.Duration, error) {
	start := time.Now()
	f, err := os.CreateTemp(dir, ".tmp-")
	if err != nil {
		return 0, err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, name)); err != nil {
		return 0, err
	}
	d, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
