package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress shows training as it runs: a bar with images/s, ETA, running
// loss and accuracy on a terminal, one plain line per epoch otherwise
// (CI logs, files).
type progress struct {
	w      io.Writer
	tty    bool
	bar    *progressbar.ProgressBar
	epochs int
	batch  int
	last   time.Time
}

func newProgress(w io.Writer, epochs int) *progress {
	if w == nil {
		return nil
	}
	return &progress{w: w, tty: isTerminal(w), epochs: epochs}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progress) startEpoch(epoch, images, batch int) {
	if p == nil {
		return
	}
	p.batch = batch
	if p.tty {
		p.bar = progressbar.NewOptions(images,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(fmt.Sprintf("Epoch %d/%d", epoch+1, p.epochs)),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("img"),
			progressbar.OptionSetWidth(24),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
}

func (p *progress) step(epoch, images int, loss, acc float64) {
	if p == nil || p.bar == nil {
		return
	}
	if time.Since(p.last) > 200*time.Millisecond {
		p.bar.Describe(fmt.Sprintf("Epoch %d/%d loss %.4f acc %.4f", epoch+1, p.epochs, loss, acc))
		p.last = time.Now()
	}
	p.bar.Add(images)
}

func (p *progress) endEpoch(l *EpochLogs, images int) {
	if p == nil {
		return
	}
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
	fmt.Fprintln(p.w, formatEpoch(l, p.epochs, images))
}

// formatEpoch renders one epoch the way Keras' verbose=2 does.
func formatEpoch(l *EpochLogs, epochs, images int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Epoch %d/%d - %.1fs", l.Epoch, epochs, l.Seconds)
	if l.Seconds > 0 && images > 0 {
		fmt.Fprintf(&b, " - %.0f img/s", float64(images)/l.Seconds)
	}
	fmt.Fprintf(&b, " - loss: %.4f - accuracy: %.4f", l.Loss, l.Accuracy)
	if !math.IsNaN(l.ValLoss) {
		fmt.Fprintf(&b, " - val_loss: %.4f - val_accuracy: %.4f", l.ValLoss, l.ValAccuracy)
	}
	fmt.Fprintf(&b, " - lr: %.4g", l.LearningRate)
	return b.String()
}
