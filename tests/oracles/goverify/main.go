// goverify checks a C2SP tlog-tiles log with Go's own implementations, which nobody on the
// glasslog project wrote: golang.org/x/mod/sumdb/note opens the checkpoint (ignoring signature
// lines of keys it does not know, such as ML-DSA-44 ones) and golang.org/x/mod/sumdb/tlog reads
// the tiles, checks that they hash to the signed root, and proves every entry of every bundle
// into it.
//
// Build (Debian's golang-go and golang-golang-x-mod-dev, no network):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o goverify tests/oracles/goverify
//
// Usage: goverify BASE_URL VKEY [TOKEN]; prints "ok <size> <entries>" and exits 0, or exits 1.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var base, token string

func get(path string) ([]byte, error) {
	req, err := http.NewRequest("GET", base+"/"+path, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return body, nil
}

// c2spPath is tile.Path() without the height segment: C2SP tlog-tiles fixes the height at 8.
func c2spPath(t tlog.Tile) string {
	p := t.Path()
	return strings.Replace(p, "tile/8/", "tile/", 1)
}

type tiles struct{}

func (tiles) Height() int { return 8 }

func (tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		b, err := get(c2spPath(t))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

func (tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "goverify: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: goverify BASE_URL VKEY [TOKEN]")
	}
	base = strings.TrimRight(os.Args[1], "/")
	if len(os.Args) > 3 {
		token = os.Args[3]
	}
	verifier, err := note.NewVerifier(os.Args[2])
	if err != nil {
		fail("vkey: %v", err)
	}
	msg, err := get("checkpoint")
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("checkpoint: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint text has %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("size: %v", err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		fail("root: %v", err)
	}
	var tree tlog.Tree
	tree.N = size
	copy(tree.Hash[:], root)
	reader := tlog.TileHashReader(tree, tiles{})
	got, err := tlog.TreeHash(size, reader)
	if err != nil {
		fail("tiles: %v", err)
	}
	if got != tree.Hash {
		fail("the tiles hash to %v, the checkpoint says %v", got, tree.Hash)
	}
	entries := int64(0)
	for start := int64(0); start < size; start += 256 {
		width := size - start
		if width > 256 {
			width = 256
		}
		path := fmt.Sprintf("tile/entries/%s", strings.TrimPrefix(tlog.Tile{H: 8, L: 0, N: start / 256, W: int(width)}.Path(), "tile/8/0/"))
		bundle, err := get(path)
		if err != nil {
			fail("%v", err)
		}
		for i := int64(0); i < width; i++ {
			if len(bundle) < 2 {
				fail("%s ends early", path)
			}
			l := int(binary.BigEndian.Uint16(bundle))
			if len(bundle) < 2+l {
				fail("%s ends early", path)
			}
			data := bundle[2 : 2+l]
			bundle = bundle[2+l:]
			proof, err := tlog.ProveRecord(size, start+i, reader)
			if err != nil {
				fail("prove %d: %v", start+i, err)
			}
			if err := tlog.CheckRecord(proof, size, tree.Hash, start+i, tlog.RecordHash(data)); err != nil {
				fail("entry %d: %v", start+i, err)
			}
			entries++
		}
		if len(bundle) != 0 {
			fail("%s has bytes after its %d entries", path, width)
		}
	}
	fmt.Printf("ok %d %d\n", size, entries)
}
