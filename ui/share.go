package ui

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"dpoplayground/core/data"
	"dpoplayground/core/session"
)

// A share link carries the whole run in its fragment:
//
//	index.html#s=BASE64URL(DEFLATE(JSON))
//	embed.html#s=...&hide=data,controls&autoplay=1
//
// The JSON is session.Settings (pairs text, reference source, training and
// loss settings, seed) under "settings", next to a version number. The
// fragment never reaches a server, so the pairs stay on the visitor's machine.

// shareVersion is the "v" of the JSON; links of other versions are refused
// with a message rather than misread.
const shareVersion = 1

// shareState is what a link carries.
type shareState struct {
	V        int              `json:"v"`
	Settings session.Settings `json:"settings"`
}

// Sections are the parts of the page that an embed can hide.
var Sections = []string{"data", "controls", "charts", "race", "pairs", "samples", "label", "heldout", "notes", "share"}

// Fragment is a parsed URL fragment.
type Fragment struct {
	Settings    session.Settings
	HasSettings bool
	Hide        []string // sections to hide, in Sections order
	Autoplay    bool
}

// EncodeSettings returns the "s" value of a share link for st.
func EncodeSettings(st session.Settings) (string, error) {
	js, err := json.Marshal(shareState{V: shareVersion, Settings: st})
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		return "", err
	}
	w.Write(js)
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(buf.Bytes()), nil
}

// maxInflated bounds what a link may inflate to: the largest pairs text the
// parser accepts plus room for the settings, so a crafted link cannot make
// the page allocate without limit.
const maxInflated = data.MaxBytes + 64<<10

// DecodeSettings reads the "s" value of a share link. Settings missing from
// the link keep their defaults.
func DecodeSettings(s string) (session.Settings, error) {
	st := session.DefaultSettings()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return st, fmt.Errorf("the link's settings are damaged (not base64url): %w", err)
	}
	js, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), maxInflated+1))
	if err != nil {
		return st, fmt.Errorf("the link's settings are damaged (not deflate data): %w", err)
	}
	if len(js) > maxInflated {
		return st, errors.New("the link's settings are larger than the page accepts")
	}
	// A link without "start" was made before the base model existed: its
	// run started from random weights, and must again.
	st.Start = session.StartRandom
	st.FollowStart(session.StartBase)
	state := shareState{Settings: st}
	if err := json.Unmarshal(js, &state); err != nil {
		return session.DefaultSettings(), fmt.Errorf("the link's settings are damaged: %w", err)
	}
	if state.V != shareVersion {
		return session.DefaultSettings(), fmt.Errorf("the link was made by another version of the playground (v%d; this page reads v%d)", state.V, shareVersion)
	}
	return state.Settings, nil
}

// BuildFragment is the fragment (without "#") of a link to st.
func BuildFragment(st session.Settings, hide []string, autoplay bool) (string, error) {
	s, err := EncodeSettings(st)
	if err != nil {
		return "", err
	}
	return joinFragment(s, hide, autoplay), nil
}

func joinFragment(s string, hide []string, autoplay bool) string {
	frag := "s=" + s
	if len(hide) > 0 {
		frag += "&hide=" + strings.Join(hide, ",")
	}
	if autoplay {
		frag += "&autoplay=1"
	}
	return frag
}

// ParseFragment reads a URL fragment (with or without "#"). Unknown keys
// and sections are ignored, so old pages read newer links' settings.
func ParseFragment(frag string) (Fragment, error) {
	var f Fragment
	frag = strings.TrimPrefix(frag, "#")
	if frag == "" {
		return f, nil
	}
	q, err := url.ParseQuery(frag)
	if err != nil {
		return f, fmt.Errorf("the link's fragment cannot be read: %w", err)
	}
	for _, list := range q["hide"] {
		for _, name := range strings.Split(list, ",") {
			name = strings.TrimSpace(name)
			if slices.Contains(Sections, name) && !slices.Contains(f.Hide, name) {
				f.Hide = append(f.Hide, name)
			}
		}
	}
	slices.SortFunc(f.Hide, func(a, b string) int { return slices.Index(Sections, a) - slices.Index(Sections, b) })
	switch q.Get("autoplay") {
	case "1", "true", "yes":
		f.Autoplay = true
	}
	if s := q.Get("s"); s != "" {
		st, err := DecodeSettings(s)
		if err != nil {
			return f, err
		}
		f.Settings, f.HasSettings = st, true
	}
	return f, nil
}

// EmbedCode is one line of HTML that embeds the page at embedURL.
func EmbedCode(embedURL string) string {
	return `<iframe src="` + htmlAttr(embedURL) + `" width="100%" height="720" style="border:0" title="DPO Playground" loading="lazy"></iframe>`
}

func htmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;").Replace(s)
}
