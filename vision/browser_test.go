package vision

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dlcv-go/dlcv/internal/testutil"
)

// browserEnv, when set to 1, makes TestBrowserPage fail instead of skip
// when no Chromium is found (CI sets it after installing Chromium).
const browserEnv = "DLCV_BROWSER_TEST"

// chromium finds a Chromium or Chrome binary: $DLCV_CHROMIUM, else the
// usual names on PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("DLCV_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (install it with 'apt-get install chromium', or set DLCV_CHROMIUM)"
	if os.Getenv(browserEnv) == "1" {
		t.Fatalf("%s=1 but %s", browserEnv, msg)
	}
	t.Skip(msg)
	return ""
}

// TestBrowserPage loads the page in headless Chromium over the DevTools
// protocol, picks cat.bmp with the file input, drops grace_hopper.bmp on
// the drop zone and drops a text file, checking what the page shows each
// time. Screenshots go to the test's artifact directory: keep them with
//
//	go test ./vision -run TestBrowserPage -artifacts -outputdir /tmp/shots
func TestBrowserPage(t *testing.T) {
	exe := chromium(t)
	cat := testutil.SharedFile(t, "models/coral/cat.bmp")
	grace, err := os.ReadFile(testutil.SharedFile(t, "models/coral/grace_hopper.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Labeler: sharedLabeler(t), Cascade: sharedCascade(t), Smiles: loadModel(t, tinyModel(t, "not_smiling", "smiling"))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // tests may run as root
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 860),
	)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	// The first action starts the browser; it must not carry a timeout.
	if err := chromedp.Do(browser, chromedp.Navigate(ts.URL)); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	ctx, cancel := context.WithTimeout(browser, 90*time.Second)
	defer cancel()
	shot := func(name string) {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.ArtifactDir(), name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", p)
	}
	text := func(js string) string {
		v, err := chromedp.Run(ctx, chromedp.Poll[string](js, chromedp.WithPollingTimeout(60*time.Second)))
		if err != nil {
			t.Fatalf("waiting for %s: %v", js, err)
		}
		return v
	}

	// Select a photo with the file picker.
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{cat})); err != nil {
		t.Fatal(err)
	}
	top := text(`document.querySelector("#labels .label-name")?.textContent`)
	if top != "Egyptian cat" && !strings.HasPrefix(top, "tabby") {
		t.Fatalf("top label shown: %q", top)
	}
	row := text(`document.querySelector("#labels .label")?.innerText`)
	if !strings.Contains(row, "%") {
		t.Fatalf("label row %q has no percentage", row)
	}
	if status := text(`document.getElementById("status").textContent`); !strings.HasPrefix(status, "Annotated in") {
		t.Fatalf("status %q", status)
	}
	if w := text(`String(document.getElementById("preview").naturalWidth)`); w == "0" {
		t.Fatal("the photo is not shown")
	}
	shot("labels.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("tab-properties"))); err != nil {
		t.Fatal(err)
	}
	if n := text(`String(document.querySelectorAll("#properties .swatch").length)`); n != "8" {
		t.Fatalf("%s colour swatches, want 8", n)
	}
	shot("properties.png")

	// Drop a photo with a face on the drop zone.
	drop := func(name, mime string, data []byte) {
		js := fmt.Sprintf(`(() => {
			const b = Uint8Array.from(atob(%q), c => c.charCodeAt(0));
			const dt = new DataTransfer();
			dt.items.add(new File([b], %q, {type: %q}));
			document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
			return true;
		})()`, base64.StdEncoding.EncodeToString(data), name, mime)
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
			t.Fatal(err)
		}
	}
	drop("grace_hopper.bmp", "image/bmp", grace)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("tab-faces"))); err != nil {
		t.Fatal(err)
	}
	if faces := text(`(document.querySelector("#faces p")?.textContent === "1 face") && document.querySelector("#faces .face").innerText`); !strings.Contains(faces, "joy:") {
		t.Fatalf("faces panel %q", faces)
	}
	// The box is drawn on the canvas over the photo.
	painted := text(`(() => {
		const c = document.getElementById("overlay");
		if (!c.width) return "";
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let n = 0;
		for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
		return n > 200 ? String(n) : "";
	})()`)
	t.Logf("%s canvas pixels painted for the face box", painted)
	if got := text(`document.querySelector("#labels .label-name")?.textContent`); got != "military uniform" {
		t.Fatalf("top label for grace_hopper.bmp: %q", got)
	}
	shot("faces.png")

	// A file that is not an image: the server's message is shown.
	drop("notes.txt", "text/plain", []byte("not a photo"))
	msg := text(`(() => { const e = document.getElementById("error"); return !e.hidden && e.textContent; })()`)
	if !strings.Contains(msg, "not an image in a supported format") {
		t.Fatalf("error shown: %q", msg)
	}
	if hidden := text(`String(document.getElementById("result").hidden)`); hidden != "true" {
		t.Fatal("the previous results stay on screen beside the error")
	}
	shot("error.png")
}
