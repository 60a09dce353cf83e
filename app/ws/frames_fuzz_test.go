package ws

import (
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/houseview/gateway/app"
)

// FuzzClientFrame: a client frame is either accepted as one of the three
// actions, an ack with a positive seq and an epoch of letters and digits,
// or refused with an invalid_argument whose text (sent back in an error
// frame) is valid UTF-8. Seeds: testdata/fuzz/FuzzClientFrame and below.
func FuzzClientFrame(f *testing.F) {
	for _, s := range []string{`{"action":"ack","seq":3}`, `{"action":"ack","seq":3,"epoch":"1w7xlk27h0ik3"}`,
		`{"action":"ack","seq":0}`, `{"action":"ack","seq":-1}`, `{"action":"ack","seq":1e30}`, `{"action":"ack","seq":"3"}`,
		`{"action":"ack","seq":3,"epoch":"a-b"}`, `{"action":"refresh","token":"x.y.z"}`, `{"action":"ping"}`,
		`{"action":"subscribe"}`, `[1,2]`, `null`, `not json`, "{\"action\":\"ack\",\"seq\":1,\"epoch\":\"\xff\"}", ``} {
		f.Add([]byte(s))
	}
	epoch := regexp.MustCompile(`^[0-9A-Za-z]{0,32}$`)
	f.Fuzz(func(t *testing.T, msg []byte) {
		fr, err := decodeFrame(msg)
		if err != nil {
			if app.ErrorCode(err) != app.EInvalidArgument || !utf8.ValidString(app.ErrorMessage(err)) {
				t.Fatalf("decodeFrame(%q) = %v", msg, err)
			}
			return
		}
		switch fr.Action {
		case "ack":
			if fr.Seq == nil || *fr.Seq <= 0 || !epoch.MatchString(fr.Epoch) {
				t.Fatalf("decodeFrame(%q) accepted an ack of seq %v, epoch %q", msg, fr.Seq, fr.Epoch)
			}
		case "refresh", "ping":
		default:
			t.Fatalf("decodeFrame(%q) accepted action %q", msg, fr.Action)
		}
	})
}
