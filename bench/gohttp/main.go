// The Go side of bench/supervisor.ts (built by it, CGO_ENABLED=0).
//
//	gohttp latency URL COUNT WARMUP   sequential GETs on one keep-alive connection; prints the latencies (µs)
//	gohttp bulk URL MIB               POSTs MIB MiB (the server echoes the body); prints {"mibPerSec": …}
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 4 {
		os.Exit(2)
	}
	url := os.Args[2]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
	switch os.Args[1] {
	case "latency":
		count, _ := strconv.Atoi(os.Args[3])
		warmup, _ := strconv.Atoi(os.Args[4])
		samples := []float64{}
		for i := 0; i < warmup+count; i++ {
			t0 := time.Now()
			r, err := client.Get(url)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			io.Copy(io.Discard, r.Body)
			r.Body.Close()
			if i >= warmup {
				samples = append(samples, float64(time.Since(t0).Nanoseconds())/1000)
			}
		}
		json.NewEncoder(os.Stdout).Encode(samples)
	case "bulk":
		mib, _ := strconv.Atoi(os.Args[3])
		body := bytes.Repeat([]byte("x"), mib<<20)
		t0 := time.Now()
		r, err := client.Post(url, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		n, _ := io.Copy(io.Discard, r.Body)
		r.Body.Close()
		secs := time.Since(t0).Seconds()
		// Both directions: the body goes up and comes back.
		json.NewEncoder(os.Stdout).Encode(map[string]float64{"mibPerSec": float64(int64(mib<<20)+n) / (1 << 20) / secs})
	}
}
