package tfjs

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// browserify wraps a module body the way nsfwjs 4.3.0's dist/models files
// are wrapped (the loader prelude shortened; the parser does not read it).
func browserify(global, body string) string {
	return `!function(e){if("object"==typeof exports&&"undefined"!=typeof module)module.exports=e();else{this.` + global +
		`=e()}}(function(){return function e(a,n,i){function l(_,o){return n[_].exports}for(var t=0;t<i.length;t++)l(i[t]);return l}` +
		`({1:[function(e,h,n){h.exports=` + body + `},{}]},{},[1])(1)});` + "\n"
}

func TestJSLiteralToJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{a:1,b_2:"x",$c:[.5,-.25,5.,1e-3,2E+4,-0.5,0],d:!0,e:!1,f:null,g:true,h:false}`,
			`{"a":1,"b_2":"x","$c":[0.5,-0.25,5,0.001,20000,-0.5,0],"d":true,"e":false,"f":null,"g":true,"h":false}`},
		{`{"quoted key":'single',z:{},y:[]}`, `{"quoted key":"single","z":{},"y":[]}`},
		{`[-0,-0.0,-.0e5,-0.001,0,1e-400]`, `[0,0,0,-0.001,0,0]`},
		{` [ 1 , { k : "a\"b\\c\n\u00e9\x41\ud83d\ude00<&>" } ] `, `[1,{"k":"a\"b\\c\né` + "A\U0001F600<&>" + `"}]`},
	} {
		got, err := JSLiteralToJSON([]byte(c.in))
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got, c.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: output is not JSON: %s", c.in, got)
		}
	}
}

// Number formatting follows ECMAScript's Number::toString; the wanted
// strings are what node prints for String(x).
func TestJSNumber(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want string
	}{
		{1e21, "1e+21"}, {1e20, "100000000000000000000"}, {1e-7, "1e-7"}, {1.5e-7, "1.5e-7"},
		{0.000001, "0.000001"}, {0.30000000000000004, "0.30000000000000004"}, {5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"}, {123.456, "123.456"}, {-2.5e-10, "-2.5e-10"},
		{0.39643433690071106, "0.39643433690071106"}, {1234567, "1234567"}, {12345.678e17, "1.2345678e+21"},
	} {
		if got := jsNumber(c.x); got != c.want {
			t.Errorf("jsNumber(%v) = %s, want %s", c.x, got, c.want)
		}
	}
}

func TestJSLiteralErrorsNameOffset(t *testing.T) {
	for _, c := range []struct{ in, msg string }{
		{`{a:1,a:2}`, "offset 5: duplicate key"},
		{`{a:0x10}`, "offset 3: unsupported number syntax"},
		{`{a:010}`, "offset 3: number with a leading zero"},
		{`{a:Infinity}`, "offset 3: want a value"},
		{`{a:void 0}`, "offset 3: want a value"},
		{`{a:!2}`, "offset 3: only !0 and !1"},
		{`{1:2}`, "offset 1: want an object key"},
		{`[1,]`, "offset 3: want a value"},
		{`[1 2]`, "offset 3: want ',' or ']'"},
		{`{a:1`, "offset 4: unexpected end in an object"},
		{`"abc`, "offset 4: unterminated string"},
		{"\"a\nb\"", "offset 2: control character"},
		{`"\q"`, `offset 1: unsupported escape \q`},
		{`"\ud800x"`, "unpaired surrogate"},
		{`"\u12G4"`, "bad hex digits"},
		{`1.2.3`, "offset 0: unsupported number syntax"},
		{`1e`, "offset 2: exponent without digits"},
		{`[1e999]`, "offset 1: number \"1e999\" is out of range"},
		{`-`, "offset 0: want a number"},
		{`{} x`, "offset 3: trailing"},
		{strings.Repeat("[", 300), "nested more than 200 deep"},
		{"\"\xff\"", "invalid UTF-8"},
	} {
		_, err := JSLiteralToJSON([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: err = %v, want %q", c.in, err, c.msg)
		}
	}
}

func TestUnwrapBundledModel(t *testing.T) {
	model := browserify("model", `{modelTopology:{keras_version:"2.2.4",model_config:{class_name:"Model",config:{layers:[{name:"d",trainable:!1}]}}},`+
		`format:"layers-model",weightsManifest:[{paths:["group1-shard1of1"],weights:[{name:"d/kernel",shape:[2,1],dtype:"float32",quantization:{min:-.5,scale:.0039,dtype:"uint8"}}]}]}`)
	got, err := UnwrapModelJS([]byte(model), []string{"group1-shard1of1.bin"})
	if err != nil {
		t.Fatal(err)
	}
	var mj modelJSON
	if err := json.Unmarshal(got, &mj); err != nil {
		t.Fatal(err)
	}
	if mj.Format != "layers-model" || len(mj.WeightsManifest) != 1 || strings.Join(mj.WeightsManifest[0].Paths, ",") != "group1-shard1of1.bin" {
		t.Fatalf("unwrapped %s", got)
	}
	if !strings.Contains(string(mj.ModelTopology), `"trainable":false`) || !strings.Contains(string(got), `"min":-0.5,"scale":0.0039`) {
		t.Fatalf("unwrapped topology %s", got)
	}
	if _, err := UnwrapModelJS([]byte(model), []string{"a.bin", "b.bin"}); err == nil || !strings.Contains(err.Error(), "names 1 shards, 2 file names") {
		t.Errorf("shard count mismatch: %v", err)
	}

	shard := []byte{0, 1, 2, 250, 251, 252, 253}
	sb := browserify("group1_shard1of1", `"`+base64.StdEncoding.EncodeToString(shard)+`"`)
	b, err := UnwrapShardJS([]byte(sb))
	if err != nil || !bytes.Equal(b, shard) {
		t.Fatalf("shard: %v %v", b, err)
	}
}

func TestUnwrapBundleErrors(t *testing.T) {
	good := browserify("m", `"AAEC"`)
	for _, c := range []struct{ name, src, msg string }{
		{"no bundle", `module.exports="AAEC"`, "0 module headers"},
		{"two modules", good + good, "2 module headers"},
		{"other object", strings.Replace(good, "h.exports=", "n.exports=", 1), "assigns n.exports, not its module parameter h"},
		{"code after", strings.Replace(good, `"AAEC"},{}`, `"AAEC";x()},{}`, 1), "want \"},{}]},{},[1])(1)});\" after"},
		{"truncated", good[:len(good)-10], "after the exported value"},
		{"not base64", strings.Replace(good, "AAEC", "AA!C", 1), "illegal base64"},
		{"not a string", strings.Replace(good, `"AAEC"`, `[1]`, 1), "not a string"},
		{"code value", strings.Replace(good, `"AAEC"`, `f("AAEC")`, 1), "want a value"},
	} {
		_, err := UnwrapShardJS([]byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.msg)
		}
	}
	if _, err := UnwrapModelJS([]byte(browserify("m", `{format:"x"}`)), []string{"a.bin"}); err == nil || !strings.Contains(err.Error(), "weightsManifest") {
		t.Errorf("no manifest: %v", err)
	}
}

// FuzzJSLiteral checks that the parser never panics and that whatever it
// accepts converts to valid JSON.
func FuzzJSLiteral(f *testing.F) {
	for _, s := range []string{`{a:1,b:[.5,-1e3,!0,!1,null],c:"x\u00e9"}`, `[]`, `'s'`, `{"k":{l:[{}]}}`, `-0.`, `"\ud83d\ude00\x41\0"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := JSLiteralToJSON(src)
		if err != nil {
			if !strings.Contains(err.Error(), "offset") {
				t.Fatalf("error without an offset: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%q converted to invalid JSON %q", src, out)
		}
	})
}
