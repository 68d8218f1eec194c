package ui

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"strings"
	"testing"

	"dpoplayground/core/data"
	"dpoplayground/core/dpo"
	"dpoplayground/core/session"
)

func TestSettingsSurviveTheLink(t *testing.T) {
	st := session.DefaultSettings()
	st.Pairs = data.Presets()[4].Text
	st.Loss, st.Beta, st.LabelSmoothing, st.LR, st.BatchSize, st.Seed = dpo.Robust, 0.25, 0.1, 3e-3, 4, 1234567890123
	st.Reference, st.SFTSteps, st.Steps, st.Warmup, st.RPOAlpha = session.RefSFTBoth, 7, 9, 2, 0.5
	frag, err := BuildFragment(st, []string{"data"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(frag, "+/ ") || !strings.HasPrefix(frag, "s=") {
		t.Errorf("fragment %q is not URL-safe", frag)
	}
	got, err := ParseFragment("#" + frag)
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasSettings || got.Settings != st || !got.Autoplay || len(got.Hide) != 1 || got.Hide[0] != "data" {
		t.Errorf("round trip: %+v", got)
	}
	// Compression matters: the pairs dominate the link.
	if len(frag) > len(st.Pairs)/2 {
		t.Errorf("fragment of %d bytes for %d bytes of pairs", len(frag), len(st.Pairs))
	}
}

func TestFragmentOptions(t *testing.T) {
	f, err := ParseFragment("hide=controls,bogus,data,controls&autoplay=yes&other=1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(f.Hide, ",") != "data,controls" || !f.Autoplay || f.HasSettings {
		t.Errorf("parsed %+v", f)
	}
	if f, err := ParseFragment(""); err != nil || f.HasSettings || f.Autoplay || len(f.Hide) != 0 {
		t.Errorf("empty fragment: %+v, %v", f, err)
	}
}

func deflate(b []byte) string {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(b)
	w.Close()
	return base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func TestDamagedLinksAreRefusedWithAReason(t *testing.T) {
	huge := make([]byte, maxInflated+10)
	for i := range huge {
		huge[i] = ' '
	}
	tests := []struct{ name, s, want string }{
		{"not base64", "s=!!!", "not base64url"},
		{"not deflate", "s=" + base64.RawURLEncoding.EncodeToString([]byte("plain")), "not deflate"},
		{"not JSON", "s=" + deflate([]byte("{oops")), "damaged"},
		{"other version", "s=" + deflate([]byte(`{"v":2,"settings":{}}`)), "another version"},
		{"too large", "s=" + deflate(huge), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFragment(tt.s)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if f.HasSettings {
				t.Error("a damaged link gave settings")
			}
		})
	}
}

// Settings a link leaves out keep their defaults, so older links keep working.
func TestMissingSettingsKeepDefaults(t *testing.T) {
	st, err := DecodeSettings(deflate([]byte(`{"v":1,"settings":{"beta":0.3}}`)))
	if err != nil {
		t.Fatal(err)
	}
	want := session.DefaultSettings()
	want.Beta = 0.3
	want.Start = session.StartRandom // a link without start predates the base model
	want.FollowStart(session.StartBase)
	if st != want {
		t.Errorf("decoded %+v", st.Config)
	}
}

func TestEmbedCodeIsOneLineOfEscapedHTML(t *testing.T) {
	code := EmbedCode(`https://h/embed.html#s=a&hide=data&x="<>`)
	want := `<iframe src="https://h/embed.html#s=a&amp;hide=data&amp;x=&quot;&lt;&gt;" width="100%" height="720" style="border:0" title="DPO Playground" loading="lazy"></iframe>`
	if code != want {
		t.Errorf("embed code\n%s\nwant\n%s", code, want)
	}
}

func FuzzParseFragment(f *testing.F) {
	frag, _ := BuildFragment(session.DefaultSettings(), []string{"data"}, true)
	f.Add(frag)
	f.Add("s=AAAA&hide=,,&autoplay=1")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFragment(s)
		if err == nil && got.HasSettings {
			again, err := BuildFragment(got.Settings, got.Hide, got.Autoplay)
			if err != nil {
				t.Fatalf("settings from a link do not encode: %v", err)
			}
			if back, err := ParseFragment(again); err != nil || back.Settings != got.Settings {
				t.Fatalf("re-encoded link differs: %v", err)
			}
		}
	})
}

// A link made before the base model existed has no "start": its run began
// from random weights and still does, whatever the page's default; a link
// that names the base keeps it.
func TestStartOfOldAndNewLinks(t *testing.T) {
	st, err := DecodeSettings(deflate([]byte(`{"v":1,"settings":{"beta":0.3}}`)))
	if err != nil {
		t.Fatal(err)
	}
	if st.Start != session.StartRandom {
		t.Errorf("a link without start decoded to start %q, want %q", st.Start, session.StartRandom)
	}
	want := session.DefaultSettings()
	want.Start = session.StartBase
	enc, err := EncodeSettings(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeSettings(enc)
	if err != nil || got.Start != session.StartBase {
		t.Errorf("a link with start base decoded to %q (%v)", got.Start, err)
	}
}
