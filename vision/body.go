package vision

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"
)

// bodyReader reads a request body under a deadline and a minimum rate,
// and reserves memory for it as it arrives.
//
// The rate is enforced with the connection's read deadline: after n bytes,
// the next ones must arrive by start + grace + n/rate (and before start +
// timeout), so a client that trickles a byte a second is cut off after the
// grace period, whatever the size it announced.
type bodyReader struct {
	r        io.Reader
	rc       *http.ResponseController
	s        *Server
	res      *reservation
	start    time.Time
	end      time.Time // start + BodyTimeout
	n        int64
	reserved int64 // bytes of body covered by res
	// factor is the memory reserved per body byte: the body, and what
	// parsing it makes (JSON strings, decoded base64).
	factor  int64
	noLimit bool // SetReadDeadline is not supported: check after reads
	cut     bool // too slow: the deadline stays passed
}

func (s *Server) newBodyReader(w http.ResponseWriter, r *http.Request, res *reservation, factor int64) *bodyReader {
	now := time.Now()
	return &bodyReader{
		r: &limitReader{r: r.Body, left: s.limits.MaxBodyBytes}, rc: http.NewResponseController(w),
		s: s, res: res, start: now, end: now.Add(s.limits.BodyTimeout), factor: factor,
	}
}

// errBodyTooLarge is the body reader's error past --max-body. (Unlike
// http.MaxBytesReader, reaching the limit does not make the server close
// the connection at once: the rest of the body is drained first, so that
// the client reads the answer.)
var errBodyTooLarge = errors.New("request body too large")

type limitReader struct {
	r    io.Reader
	left int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n, errBodyTooLarge
	}
	return n, err
}

// expect reserves memory for a body whose length is announced.
func (b *bodyReader) expect(n int64) error {
	if n <= b.reserved {
		return nil
	}
	if err := b.res.grow((n - b.reserved) * b.factor); err != nil {
		return err
	}
	b.reserved = n
	return nil
}

// deadline is when the bytes read so far stop meeting the minimum rate.
func (b *bodyReader) deadline() time.Time {
	l := b.s.limits
	d := b.start.Add(l.BodyGrace + time.Duration(float64(b.n)/float64(l.MinBodyRate)*float64(time.Second)))
	if d.After(b.end) {
		return b.end
	}
	return d
}

func (b *bodyReader) Read(p []byte) (int, error) {
	// Reserve memory ahead of the bytes, doubling, so that a body costs
	// a few reservations whatever its size.
	if b.n+int64(len(p)) > b.reserved {
		more := max(b.reserved, 64<<10, int64(len(p)))
		more = min(more, b.s.limits.MaxBodyBytes+1-b.reserved)
		if more > 0 {
			if err := b.res.grow(more * b.factor); err != nil {
				return 0, err
			}
			b.reserved += more
		}
	}
	d := b.deadline()
	if !b.noLimit {
		if err := b.rc.SetReadDeadline(d); err != nil {
			b.noLimit = true
		}
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	if errors.Is(err, os.ErrDeadlineExceeded) || (b.noLimit && err == nil && time.Now().After(d)) {
		// Leave the deadline passed: after the handler, the server would
		// otherwise wait for the rest of the body before answering.
		b.cut = true
		return n, b.slowError()
	}
	return n, err
}

// done lifts the read deadline once the body is in, so that the server's
// watch for the client going away (which reads the connection) does not
// time out and cancel the request while it is worked on.
func (b *bodyReader) done() {
	if !b.noLimit && !b.cut {
		b.rc.SetReadDeadline(time.Time{})
	}
}

func (b *bodyReader) slowError() error {
	b.s.metrics.count(b.s.metrics.rejected, "slow_body")
	el := time.Since(b.start).Round(time.Millisecond)
	if !time.Now().Before(b.end) {
		return errorf(codeDeadlineExceeded, "the request body did not arrive within %v (--body-timeout); %d bytes came", b.s.limits.BodyTimeout, b.n)
	}
	return errorf(codeDeadlineExceeded, "the request body is arriving too slowly: %d bytes in %v, under the minimum of %d bytes/s after the first %v (--min-body-rate)",
		b.n, el, b.s.limits.MinBodyRate, b.s.limits.BodyGrace)
}
