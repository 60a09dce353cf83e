package app_test

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/houseview/gateway/app"
)

// FuzzParsePosition: the resume parameters of a handshake (last_seq,
// epoch) and of GET /api/messages (after, epoch). What is accepted is a
// non-negative seq that reads back from its decimal form and an epoch of at
// most 32 letters and digits; what is refused is an invalid_argument.
// Seeds: testdata/fuzz/FuzzParsePosition and below.
func FuzzParsePosition(f *testing.F) {
	for _, s := range [][2]string{{"0", ""}, {"12", "1w7xlk27h0ik3"}, {"-1", ""}, {"+5", "a"}, {"007", "b"},
		{"9223372036854775807", "z"}, {"9223372036854775808", ""}, {"1", "a-b"}, {"1", "\xff"}, {"", ""},
		{" 1", ""}, {"1", "0123456789012345678901234567890123"}} {
		f.Add(s[0], s[1])
	}
	epoch := regexp.MustCompile(`^[0-9A-Za-z]{0,32}$`)
	f.Fuzz(func(t *testing.T, seq, ep string) {
		p, err := app.ParsePosition(seq, ep, "last_seq")
		if err != nil {
			if app.ErrorCode(err) != app.EInvalidArgument {
				t.Fatalf("ParsePosition(%q, %q) = %v", seq, ep, err)
			}
			return
		}
		if p.Seq < 0 || p.Epoch != ep || !epoch.MatchString(p.Epoch) {
			t.Fatalf("ParsePosition(%q, %q) = %+v", seq, ep, p)
		}
		again, err := app.ParsePosition(strconv.FormatInt(p.Seq, 10), p.Epoch, "last_seq")
		if err != nil || again != p {
			t.Fatalf("ParsePosition(%q, %q) = %+v, but its decimal form reads %+v, %v", seq, ep, p, again, err)
		}
	})
}
