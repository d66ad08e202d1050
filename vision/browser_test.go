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
// protocol, picks cat.bmp with the file input and opens every tab (in
// Cloud Vision's demo order: Objects, Labels, Web, Properties, Safe
// Search, Faces, Text), drops grace_hopper.bmp on the drop zone and
// drops a text file, checking what the page shows each time, with a
// screenshot of each. Screenshots go to the test's artifact directory: keep them with
//
//	go test ./vision -run TestBrowserPage -artifacts -outputdir /tmp/shots
func TestBrowserPage(t *testing.T) {
	exe := chromium(t)
	cat := testutil.SharedFile(t, "models/coral/cat.bmp")
	grace, err := os.ReadFile(testutil.SharedFile(t, "models/coral/grace_hopper.bmp"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Labeler: sharedLabeler(t)}
	sharedFeatureModels(t, &cfg)
	cfg.Web = sharedWeb(t, 5, cfg.Labeler)
	s, err := New(cfg)
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

	// Select a photo with the file picker: the Objects tab is open.
	if err := chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{cat})); err != nil {
		t.Fatal(err)
	}
	if status := text(`document.getElementById("status").textContent.startsWith("Annotated in") && document.getElementById("status").textContent`); !strings.HasPrefix(status, "Annotated in") {
		t.Fatalf("status %q", status)
	}
	if w := text(`String(document.getElementById("preview").naturalWidth)`); w == "0" {
		t.Fatal("the photo is not shown")
	}
	tabs := text(`[...document.querySelectorAll(".tabs button")].map(b => b.textContent).join(",")`)
	if tabs != "Objects,Labels,Web,Properties,Safe Search,Faces,Text" {
		t.Fatalf("tabs %q", tabs)
	}
	// The detector misses the cat and finds a bed (docs/objects.md).
	if obj := text(`document.querySelector("#objects .label-name")?.textContent`); obj != "bed" {
		t.Fatalf("objects tab: %q", obj)
	}
	if n := paintedPixels(t, text); n == "" {
		t.Fatal("no object box drawn over the photo")
	}
	shot("objects.png")
	open := func(tab string) {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("tab-"+tab))); err != nil {
			t.Fatal(err)
		}
		if hidden := text(`String(document.getElementById("` + tab + `").hidden)`); hidden != "false" {
			t.Fatalf("tab %s not shown", tab)
		}
	}
	open("labels")
	top := text(`document.querySelector("#labels .label-name")?.textContent`)
	if top != "Egyptian cat" && !strings.HasPrefix(top, "tabby") {
		t.Fatalf("top label shown: %q", top)
	}
	row := text(`document.querySelector("#labels .label")?.innerText`)
	if !strings.Contains(row, "%") {
		t.Fatalf("label row %q has no percentage", row)
	}
	shot("labels.png")
	open("web")
	if web := text(`document.querySelector("#web")?.innerText`); !strings.Contains(web, "Best guess: Egyptian cat") || !strings.Contains(web, "Visually similar images") || !strings.Contains(web, "cats/") {
		t.Fatalf("web tab %q", web)
	}
	shot("web.png")
	open("properties")
	if n := text(`String(document.querySelectorAll("#properties .swatch").length)`); n != "8" {
		t.Fatalf("%s colour swatches, want 8", n)
	}
	shot("properties.png")
	open("safesearch")
	if ss := text(`document.querySelector("#safesearch .likelihoods")?.innerText`); !strings.Contains(ss, "Adult") || !strings.Contains(ss, "very unlikely") || !strings.Contains(ss, "unknown") {
		t.Fatalf("safe search tab %q", ss)
	}
	if js := text(`document.querySelector("#safesearch details pre")?.textContent`); !strings.Contains(js, `"adult": "VERY_UNLIKELY"`) {
		t.Fatalf("safe search JSON %q", js)
	}
	shot("safesearch.png")
	open("text")
	// What PP-OCR reads in the cat photo (maybe nothing), and the JSON.
	if msg := text(`document.querySelector("#text details pre")?.textContent`); !strings.Contains(msg, "textAnnotations") {
		t.Fatalf("text tab JSON %q", msg)
	}
	t.Logf("text tab: %q", text(`document.querySelector("#text").innerText || "-"`))
	shot("text.png")

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
	open("faces")
	if faces := text(`(document.querySelector("#faces p")?.textContent === "1 face") && document.querySelector("#faces").innerText`); !strings.Contains(faces, "Joy") || !strings.Contains(faces, "roll") {
		t.Fatalf("faces panel %q", faces)
	}
	// The box and the landmarks are drawn on the canvas over the photo.
	t.Logf("%s canvas pixels painted for the face", paintedPixels(t, text))
	if paintedPixels(t, text) == "" {
		t.Fatal("no face box drawn")
	}
	if got := text(`document.querySelector("#labels .label-name")?.textContent`); got != "military uniform" {
		t.Fatalf("top label for grace_hopper.bmp: %q", got)
	}
	shot("faces.png")
	open("objects")
	if got := text(`[...document.querySelectorAll("#objects .label-name")].map(e => e.textContent).join(",")`); got != "person,tie" {
		t.Fatalf("objects for grace_hopper.bmp: %q", got)
	}
	shot("objects-grace.png")

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

// paintedPixels counts the overlay canvas's painted pixels ("" when
// under 200).
func paintedPixels(t *testing.T, text func(string) string) string {
	return text(`(() => {
		const c = document.getElementById("overlay");
		if (!c.width) return "";
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let n = 0;
		for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
		return n > 200 ? String(n) : "";
	})()`)
}
