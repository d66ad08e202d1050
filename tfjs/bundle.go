package tfjs

// Some npm packages ship a TF.js model as JavaScript modules instead of
// model.json and .bin shards (nsfwjs 4.x: dist/models/NAME/model.min.js and
// group1-shardKofN.min.js, browserify bundles). The functions here turn
// them back into the files Load reads, without running any JavaScript: a
// bundle's single module must be `X.exports=VALUE`, and VALUE is parsed as
// the small JS object-literal subset minifiers emit for JSON data.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// bundleHead is where a one-module browserify bundle's module body starts:
// `({1:[function(e,a,n){a.exports=` with any three parameter names, the
// second being the module object.
var bundleHead = regexp.MustCompile(`\(\{1:\[function\(([A-Za-z_$][\w$]*),([A-Za-z_$][\w$]*),([A-Za-z_$][\w$]*)\)\{([A-Za-z_$][\w$]*)\.exports=`)

// bundleTail is what follows the exported value in such a bundle.
const bundleTail = "},{}]},{},[1])(1)});"

// maxLiteralDepth bounds nesting so that hostile input cannot exhaust the
// stack (Keras JSON nests about 10 deep).
const maxLiteralDepth = 200

// bundleExport returns the exported value of a one-module browserify
// bundle, as JSON; rewrite, when not nil, may replace object members (see
// literalParser).
func bundleExport(src []byte, rewrite func(path []string, value []byte) ([]byte, error)) ([]byte, error) {
	ms := bundleHead.FindAllSubmatchIndex(src, 2)
	if len(ms) != 1 {
		return nil, fmt.Errorf("tfjs: not a one-module browserify bundle: %d module headers `({1:[function(e,a,n){a.exports=` found, want 1", len(ms))
	}
	m := ms[0]
	if !bytes.Equal(src[m[4]:m[5]], src[m[8]:m[9]]) {
		return nil, fmt.Errorf("tfjs: bundle offset %d: the module assigns %s.exports, not its module parameter %s", m[8], src[m[8]:m[9]], src[m[4]:m[5]])
	}
	p := &literalParser{src: src, pos: m[1], rewrite: rewrite}
	if err := p.value(0); err != nil {
		return nil, err
	}
	rest := bytes.TrimRight(src[p.pos:], " \t\r\n")
	if string(rest) != bundleTail {
		return nil, fmt.Errorf("tfjs: bundle offset %d: want %q after the exported value, found %q", p.pos, bundleTail, clip(rest))
	}
	return p.out.Bytes(), nil
}

// JSLiteralToJSON converts a JavaScript literal of the subset minifiers
// write for JSON data to JSON: objects (bare identifier or string keys),
// arrays, strings in single or double quotes, numbers (also .5, 5., exponents), !0 and !1
// (true, false), true, false, null. Object key order is kept. Anything
// else, including trailing text, is an error that names its byte offset.
func JSLiteralToJSON(src []byte) ([]byte, error) {
	p := &literalParser{src: src}
	if err := p.value(0); err != nil {
		return nil, err
	}
	p.space()
	if p.pos != len(src) {
		return nil, p.errorf("trailing %q after the value", clip(src[p.pos:]))
	}
	return p.out.Bytes(), nil
}

// UnwrapModelJS turns a bundled model.json (model.min.js) into model.json,
// with the weights manifest's paths, in order over all groups, replaced by
// shards (the file names the shards are written under beside it).
func UnwrapModelJS(src []byte, shards []string) ([]byte, error) {
	n, groups := 0, 0
	// The paths are replaced where they stand, so that the output keeps
	// the bundle's key order, as JSON.stringify would write the object.
	js, err := bundleExport(src, func(path []string, v []byte) ([]byte, error) {
		if len(path) != 3 || path[0] != "weightsManifest" || path[2] != "paths" {
			return nil, nil
		}
		var paths []string
		if err := json.Unmarshal(v, &paths); err != nil {
			return nil, fmt.Errorf("tfjs: bundled model: weightsManifest[%s].paths is not a list of strings", path[1])
		}
		if n+len(paths) > len(shards) {
			return nil, fmt.Errorf("tfjs: bundled model: the manifest names more than the %d shard files given", len(shards))
		}
		b, _ := json.Marshal(shards[n : n+len(paths)])
		n += len(paths)
		groups++
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	var top struct {
		Manifest []ManifestGroup `json:"weightsManifest"`
	}
	if err := json.Unmarshal(js, &top); err != nil || len(top.Manifest) == 0 || groups != len(top.Manifest) {
		return nil, fmt.Errorf("tfjs: bundled model: the exported value is not an object with a weightsManifest list of groups with paths")
	}
	if n != len(shards) {
		return nil, fmt.Errorf("tfjs: bundled model: the manifest names %d shards, %d file names given", n, len(shards))
	}
	return js, nil
}

// UnwrapShardJS turns a bundled weight shard (group1-shardKofN.min.js,
// whose module exports one base64 string) into the shard's bytes.
func UnwrapShardJS(src []byte) ([]byte, error) {
	js, err := bundleExport(src, nil)
	if err != nil {
		return nil, err
	}
	var s string
	if err := json.Unmarshal(js, &s); err != nil {
		return nil, fmt.Errorf("tfjs: bundled shard: the exported value is not a string")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("tfjs: bundled shard: %w", err)
	}
	return b, nil
}

// literalParser converts a JS literal at src[pos:] to JSON in out.
type literalParser struct {
	src []byte
	pos int
	out bytes.Buffer
	// rewrite, when set, is called with each object member's key path
	// (keys and array indices from the top) and its value as JSON; a
	// non-nil result replaces the value (value is valid during the call).
	rewrite func(path []string, value []byte) ([]byte, error)
	path    []string
}

func (p *literalParser) errorf(format string, a ...any) error {
	return fmt.Errorf("tfjs: JS literal offset %d: %s", p.pos, fmt.Sprintf(format, a...))
}

func clip(b []byte) []byte {
	if len(b) > 20 {
		return b[:20]
	}
	return b
}

func (p *literalParser) space() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// word consumes w if it is next and not followed by an identifier byte.
func (p *literalParser) word(w string) bool {
	if !bytes.HasPrefix(p.src[p.pos:], []byte(w)) {
		return false
	}
	if e := p.pos + len(w); e < len(p.src) && isIdent(p.src[e], true) {
		return false
	}
	p.pos += len(w)
	return true
}

func isIdent(c byte, rest bool) bool {
	return c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || rest && '0' <= c && c <= '9'
}

func (p *literalParser) value(depth int) error {
	if depth > maxLiteralDepth {
		return p.errorf("nested more than %d deep", maxLiteralDepth)
	}
	p.space()
	if p.pos >= len(p.src) {
		return p.errorf("unexpected end, want a value")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"' || c == '\'':
		return p.str()
	case c == '-' || c == '.' || '0' <= c && c <= '9':
		return p.number()
	case c == '!':
		switch {
		case p.word("!0"):
			p.out.WriteString("true")
		case p.word("!1"):
			p.out.WriteString("false")
		default:
			return p.errorf("only !0 and !1 are supported, found %q", clip(p.src[p.pos:]))
		}
		return nil
	}
	for _, w := range []string{"true", "false", "null"} {
		if p.word(w) {
			p.out.WriteString(w)
			return nil
		}
	}
	return p.errorf("want a value, found %q", clip(p.src[p.pos:]))
}

func (p *literalParser) object(depth int) error {
	p.pos++ // {
	p.out.WriteByte('{')
	seen := map[string]bool{}
	for i := 0; ; i++ {
		p.space()
		if p.pos < len(p.src) && p.src[p.pos] == '}' && i == 0 {
			p.pos++
			p.out.WriteByte('}')
			return nil
		}
		if i > 0 {
			p.out.WriteByte(',')
		}
		start := p.pos
		var key string
		switch {
		case p.pos < len(p.src) && (p.src[p.pos] == '"' || p.src[p.pos] == '\''):
			s, err := p.strValue()
			if err != nil {
				return err
			}
			key = s
		case p.pos < len(p.src) && isIdent(p.src[p.pos], false):
			e := p.pos + 1
			for e < len(p.src) && isIdent(p.src[e], true) {
				e++
			}
			key = string(p.src[p.pos:e])
			p.pos = e
		default:
			return p.errorf("want an object key (an identifier or a string)")
		}
		if seen[key] {
			p.pos = start
			return p.errorf("duplicate key %q", key)
		}
		seen[key] = true
		writeJSONString(&p.out, key)
		p.space()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return p.errorf("want ':' after key %q", key)
		}
		p.pos++
		p.out.WriteByte(':')
		mark := p.out.Len()
		p.path = append(p.path, key)
		if err := p.value(depth + 1); err != nil {
			return err
		}
		if p.rewrite != nil {
			v, err := p.rewrite(p.path, p.out.Bytes()[mark:])
			if err != nil {
				return err
			}
			if v != nil {
				p.out.Truncate(mark)
				p.out.Write(v)
			}
		}
		p.path = p.path[:len(p.path)-1]
		p.space()
		if p.pos >= len(p.src) {
			return p.errorf("unexpected end in an object")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.out.WriteByte('}')
			return nil
		default:
			return p.errorf("want ',' or '}' in an object, found %q", p.src[p.pos])
		}
	}
}

func (p *literalParser) array(depth int) error {
	p.pos++ // [
	p.out.WriteByte('[')
	for i := 0; ; i++ {
		p.space()
		if p.pos < len(p.src) && p.src[p.pos] == ']' && i == 0 {
			p.pos++
			p.out.WriteByte(']')
			return nil
		}
		if i > 0 {
			p.out.WriteByte(',')
		}
		p.path = append(p.path, strconv.Itoa(i))
		if err := p.value(depth + 1); err != nil {
			return err
		}
		p.path = p.path[:len(p.path)-1]
		p.space()
		if p.pos >= len(p.src) {
			return p.errorf("unexpected end in an array")
		}
		switch p.src[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			p.out.WriteByte(']')
			return nil
		default:
			return p.errorf("want ',' or ']' in an array, found %q", p.src[p.pos])
		}
	}
}

func (p *literalParser) str() error {
	s, err := p.strValue()
	if err != nil {
		return err
	}
	writeJSONString(&p.out, s)
	return nil
}

// strValue reads a quoted string: the escapes \" \' \\ \/ \b \f \n \r \t
// \v \0 (not before a digit), \xHH and \uHHHH (surrogates in pairs). Raw
// control characters and invalid UTF-8 are errors, as are line
// continuations and other escapes.
func (p *literalParser) strValue() (string, error) {
	q := p.src[p.pos]
	p.pos++
	var b []byte
	for {
		if p.pos >= len(p.src) {
			return "", p.errorf("unterminated string")
		}
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return string(b), nil
		case c < 0x20:
			return "", p.errorf("control character %#02x in a string", c)
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(p.src[p.pos:])
			if r == utf8.RuneError && n <= 1 {
				return "", p.errorf("invalid UTF-8 in a string")
			}
			b = append(b, p.src[p.pos:p.pos+n]...)
			p.pos += n
			continue
		case c != '\\':
			b = append(b, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.src) {
			return "", p.errorf("unterminated string")
		}
		e := p.src[p.pos+1]
		if r, ok := simpleEscapes[e]; ok {
			b = append(b, r)
			p.pos += 2
			continue
		}
		switch e {
		case '0':
			if p.pos+2 < len(p.src) && '0' <= p.src[p.pos+2] && p.src[p.pos+2] <= '9' {
				return "", p.errorf("octal escapes are not supported")
			}
			b = append(b, 0)
			p.pos += 2
		case 'x':
			v, err := p.hex(p.pos+2, 2)
			if err != nil {
				return "", err
			}
			b = utf8.AppendRune(b, rune(v))
			p.pos += 4
		case 'u':
			v, err := p.hex(p.pos+2, 4)
			if err != nil {
				return "", err
			}
			r := rune(v)
			p.pos += 6
			if utf16.IsSurrogate(r) {
				if r >= 0xdc00 || !bytes.HasPrefix(p.src[p.pos:], []byte(`\u`)) {
					return "", p.errorf("unpaired surrogate \\u%04x", v)
				}
				lo, err := p.hex(p.pos+2, 4)
				if err != nil {
					return "", err
				}
				if r = utf16.DecodeRune(r, rune(lo)); r == utf8.RuneError {
					return "", p.errorf("unpaired surrogate \\u%04x", v)
				}
				p.pos += 6
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", p.errorf("unsupported escape \\%c", e)
		}
	}
}

// simpleEscapes maps the byte after a backslash to the byte it stands for.
var simpleEscapes = map[byte]byte{'"': '"', '\'': '\'', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v'}

func (p *literalParser) hex(at, n int) (uint64, error) {
	if at+n > len(p.src) {
		return 0, p.errorf("unterminated escape")
	}
	v, err := strconv.ParseUint(string(p.src[at:at+n]), 16, 32)
	if err != nil || bytes.ContainsAny(p.src[at:at+n], "+-") {
		return 0, p.errorf("bad hex digits %q in an escape", p.src[at:at+n])
	}
	return v, nil
}

// number reads [-](digits[.digits*] | .digits)[(e|E)[+-]digits] and writes
// it as JSON.stringify would (see jsNumber).
// Hex, octal, Infinity and NaN are errors.
func (p *literalParser) number() error {
	digits := func() string {
		s := p.pos
		for p.pos < len(p.src) && '0' <= p.src[p.pos] && p.src[p.pos] <= '9' {
			p.pos++
		}
		return string(p.src[s:p.pos])
	}
	start := p.pos
	if p.pos < len(p.src) && p.src[p.pos] == '-' {
		p.pos++
	}
	ip := digits()
	if len(ip) > 1 && ip[0] == '0' {
		p.pos = start
		return p.errorf("number with a leading zero (legacy octal) is not supported")
	}
	var frac string
	hasDot := p.pos < len(p.src) && p.src[p.pos] == '.'
	if hasDot {
		p.pos++
		frac = digits()
	}
	if ip == "" && frac == "" {
		p.pos = start
		return p.errorf("want a number, found %q", clip(p.src[p.pos:]))
	}
	if p.pos < len(p.src) && (p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.src) && (p.src[p.pos] == '+' || p.src[p.pos] == '-') {
			p.pos++
		}
		if digits() == "" {
			return p.errorf("exponent without digits")
		}
	}
	if p.pos < len(p.src) && (isIdent(p.src[p.pos], true) || p.src[p.pos] == '.') {
		p.pos = start
		return p.errorf("unsupported number syntax %q", clip(p.src[start:]))
	}
	text := p.src[start:p.pos]
	// An underflow is 0 in JavaScript too; an overflow would be Infinity,
	// which JSON cannot hold.
	x, err := strconv.ParseFloat(string(text), 64)
	if math.IsInf(x, 0) || err != nil && x != 0 {
		p.pos = start
		return p.errorf("number %q is out of range", clip(text))
	}
	p.out.WriteString(jsNumber(x))
	return nil
}

// jsNumber formats x as JavaScript's Number::toString does (so as
// JSON.stringify writes it): the shortest digits that round-trip, in fixed
// notation for 1e-7 <= |x| < 1e21, else as d.ddde+N; -0 is "0". Writing
// numbers this way makes an unwrapped model.json the bytes TF.js tooling
// writes for the same object.
func jsNumber(x float64) string {
	if x == 0 {
		return "0"
	}
	sign := ""
	if x < 0 {
		sign, x = "-", -x
	}
	e := strconv.FormatFloat(x, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	k := len(digits)
	n, _ := strconv.Atoi(exp)
	n++ // x = 0.digits * 10^n
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	es := "+"
	if n-1 < 0 {
		es = "-"
	}
	d := digits[:1]
	if k > 1 {
		d += "." + digits[1:]
	}
	return sign + d + "e" + es + strconv.Itoa(abs(n-1))
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// writeJSONString writes s as a JSON string, leaving <, > and & as they
// are (json.Marshal would escape them).
func writeJSONString(w *bytes.Buffer, s string) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a valid UTF-8 string cannot fail
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
