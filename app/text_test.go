package app_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		multiline bool
		want      string // the error message, "" for none
	}{
		{"ascii", "Alice", app.OneLine, ""},
		{"chinese", "张三", app.OneLine, ""},
		{"empty", "", app.OneLine, ""},
		{"emoji", "🏠 看房", app.OneLine, ""},
		{"emoji zwj sequence", "👩\u200d💻", app.OneLine, ""},
		{"emoji zwj with variation selector", "🏳\ufe0f\u200d🌈", app.OneLine, ""},
		{"skin tone then zwj", "👩🏽\u200d🚀", app.OneLine, ""},
		{"flag tag sequence", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", app.OneLine, ""},
		{"replacement character as text", "a\ufffdb", app.OneLine, ""},
		{"newline in a reason", "太远\n改天", app.MultiLine, ""},
		{"tab in content", "a\tb", app.MultiLine, ""},
		{"line separator in content", "a\u2028b", app.MultiLine, ""},

		{"invalid utf-8", "ab\xffcd", app.OneLine, "f is not valid UTF-8 (byte 2)"},
		{"truncated rune", "张\xe4\xb8", app.MultiLine, "f is not valid UTF-8 (byte 3)"},
		{"newline in a name", "张\n三", app.OneLine, "f must not contain line breaks or tabs (U+000A at character 2)"},
		{"line separator in a name", "a\u2028b", app.OneLine, "f must not contain line breaks or tabs (U+2028 at character 2)"},
		{"nul", "a\x00", app.MultiLine, "f must not contain control characters (U+0000 at character 2)"},
		{"escape", "\x1b[31mred", app.MultiLine, "f must not contain control characters (U+001B at character 1)"},
		{"del", "a\x7f", app.OneLine, "f must not contain control characters (U+007F at character 2)"},
		{"c1 control", "a\u0085", app.MultiLine, "f must not contain control characters (U+0085 at character 2)"},
		{"right-to-left override", "invoice\u202egpj.exe", app.OneLine, "f must not contain bidi control characters (U+202E at character 8)"},
		{"right-to-left isolate", "\u2067abc", app.MultiLine, "f must not contain bidi control characters (U+2067 at character 1)"},
		{"right-to-left mark", "ab\u200f", app.OneLine, "f must not contain bidi control characters (U+200F at character 3)"},
		{"arabic letter mark", "\u061c", app.OneLine, "f must not contain bidi control characters (U+061C at character 1)"},
		{"zero-width space", "张\u200b三", app.OneLine, "f must not contain zero-width characters (U+200B at character 2)"},
		{"zero-width joiner between letters", "a\u200db", app.OneLine, "f must not contain zero-width characters (U+200D at character 2)"},
		{"zero-width joiner at the end", "👩\u200d", app.OneLine, "f must not contain zero-width characters (U+200D at character 2)"},
		{"zero-width non-joiner", "a\u200cb", app.MultiLine, "f must not contain zero-width characters (U+200C at character 2)"},
		{"word joiner", "a\u2060b", app.OneLine, "f must not contain zero-width characters (U+2060 at character 2)"},
		{"byte order mark", "\ufeffAlice", app.OneLine, "f must not contain zero-width characters (U+FEFF at character 1)"},
		{"soft hyphen", "Ali\u00adce", app.OneLine, "f must not contain invisible format characters (U+00AD at character 4)"},
		{"tag character alone", "a\U000E0067", app.OneLine, "f must not contain invisible format characters (U+E0067 at character 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := app.CheckText("f", tt.in, tt.multiline); err != nil {
				if code := app.ErrorCode(err); code != app.EInvalidArgument {
					t.Errorf("code %q, want %q", code, app.EInvalidArgument)
				}
				got = app.ErrorMessage(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckText(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}
