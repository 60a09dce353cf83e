package app_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/houseview/gateway/app"
)

// FuzzCheckText checks CheckText against a plain statement of its rules:
// whatever it accepts is valid UTF-8 and shows no control, bidi or
// zero-width character outside an emoji sequence; whatever it refuses is
// refused with an invalid_argument that names the field in valid UTF-8.
// Seeds: testdata/fuzz/FuzzCheckText and the cases below.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"张三", "👩\u200d💻", "a\u202eb", "a\nb", "\xff", "🏴\U000E0067\U000E007F", "\u200d", "a\u200d👩"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		err := app.CheckText("the_field", s, multiline)
		if err != nil {
			msg := app.ErrorMessage(err)
			if app.ErrorCode(err) != app.EInvalidArgument || !strings.HasPrefix(msg, "the_field ") || !utf8.ValidString(msg) {
				t.Fatalf("CheckText(%q) = %v", s, err)
			}
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("CheckText accepted invalid UTF-8 %q", s)
		}
		runes := []rune(s)
		for i, r := range runes {
			switch {
			case r == '\n' || r == '\t' || r == '\u2028' || r == '\u2029':
				if !multiline {
					t.Fatalf("one-line text %q accepted with %U", s, r)
				}
			case unicode.Is(unicode.Cc, r):
				t.Fatalf("%q accepted with control %U", s, r)
			case r == '\u200d':
				if i == 0 || i == len(runes)-1 || !unicode.Is(unicode.So, runes[i+1]) {
					t.Fatalf("%q accepted with a joiner %U not between symbols", s, r)
				}
			case r >= 0xE0020 && r <= 0xE007F:
				if i == 0 {
					t.Fatalf("%q accepted with a leading tag %U", s, r)
				}
			case unicode.Is(unicode.Cf, r):
				t.Fatalf("%q accepted with format character %U", s, r)
			}
		}
	})
}
