package app

import (
	"unicode"
	"unicode/utf8"
)

// Text kinds: what CheckText allows besides printable characters.
const (
	// OneLine text (names, titles) has no line breaks or tabs.
	OneLine = false
	// MultiLine text (reasons, push content) may hold "\n" and "\t".
	MultiLine = true
)

// CheckText checks free text that ends up in someone else's notification
// and returns an EInvalidArgument naming field when it is not valid UTF-8
// or holds a character that could hide or disguise what the reader sees:
//
//   - control characters (Cc), "\n" and "\t" excepted in MultiLine text;
//   - format characters (Cf): bidi embeddings, overrides, isolates and
//     marks (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C), zero-width
//     spaces and joiners (U+200B-U+200D, U+2060, U+FEFF), soft hyphens,
//     invisible operators, tag characters; except a zero-width joiner
//     between two symbols (emoji sequences such as 👩‍💻) and tag characters
//     after a symbol (flag sequences such as 🏴 + tags);
//   - line and paragraph separators (U+2028, U+2029) in OneLine text.
//
// Other characters (unassigned or private-use code points among them) pass:
// they neither reorder nor hide the text around them.
//
// The first offending character is named in the message, as U+XXXX.
func CheckText(field, s string, multiline bool) error {
	if i, r, ok := badRune(s, multiline); !ok {
		if r == utf8.RuneError {
			return Errorf(EInvalidArgument, "%s is not valid UTF-8 (byte %d)", field, i)
		}
		return Errorf(EInvalidArgument, "%s must not contain %s (U+%04X at character %d)", field, runeKind(r), r, utf8.RuneCountInString(s[:i])+1)
	}
	return nil
}

// badRune returns the byte offset and rune of the first character of s
// that CheckText refuses, and false; or true when there is none.
// Invalid UTF-8 is reported as utf8.RuneError.
func badRune(s string, multiline bool) (int, rune, bool) {
	prev := rune(-1)
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f { // printable ASCII: the common case
			prev = rune(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return i, utf8.RuneError, false
		}
		if !allowed(r, prev, s[i+n:], multiline) {
			return i, r, false
		}
		prev = r
		i += n
	}
	return 0, 0, true
}

// allowed reports whether r, after prev and before rest, may stand in text.
func allowed(r, prev rune, rest string, multiline bool) bool {
	switch {
	case r == '\n' || r == '\t' || r == '\u2028' || r == '\u2029':
		return multiline
	case unicode.Is(unicode.Cc, r):
		return false
	case !unicode.Is(unicode.Cf, r):
		return true
	case r == zwj:
		next, _ := utf8.DecodeRuneInString(rest)
		return isSymbol(prev) && isSymbol(next)
	case r >= 0xE0020 && r <= 0xE007F: // tag characters of flag sequences
		return isSymbol(prev) || prev >= 0xE0020 && prev <= 0xE007F
	}
	return false
}

const zwj = '\u200D'

// isSymbol reports whether r may start or continue an emoji sequence: a
// symbol (So), an emoji modifier (skin tones, Sk) or the emoji variation
// selector.
func isSymbol(r rune) bool {
	return r == '\uFE0F' || r >= 0x1F3FB && r <= 0x1F3FF || r > 0 && r != utf8.RuneError && unicode.Is(unicode.So, r)
}

// runeKind names the class of a refused character for a message.
func runeKind(r rune) string {
	switch {
	case r == '\n' || r == '\t' || r == 0x2028 || r == 0x2029:
		return "line breaks or tabs"
	case unicode.Is(unicode.Cc, r):
		return "control characters"
	case r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069 || r == 0x200E || r == 0x200F || r == 0x061C:
		return "bidi control characters"
	case r >= 0x200B && r <= 0x200D || r == 0x2060 || r == 0xFEFF:
		return "zero-width characters"
	default:
		return "invisible format characters"
	}
}
