package reqbody

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/houseview/gateway/app"
)

// invalidUTF8 is the error of a body that is not valid UTF-8. encoding/json
// would turn each bad byte into U+FFFD without a word, so Decode checks
// the raw body first (utf8.Valid, cheap next to decoding) and this names
// the field that holds the first bad byte.
func invalidUTF8(body []byte) error {
	at := firstInvalid(body)
	where, inKey := fieldAt(body, at)
	switch {
	case where == "":
		return app.Errorf(app.EInvalidArgument, "request body is not valid UTF-8 (byte %d)", at)
	case inKey:
		return app.Errorf(app.EInvalidArgument, "a field name in %s is not valid UTF-8", where)
	default:
		return app.Errorf(app.EInvalidArgument, "%s is not valid UTF-8", where)
	}
}

// firstInvalid returns the offset of the first byte of b that does not
// start a valid UTF-8 sequence (len(b) if there is none).
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// jsonLevel is one open object or array while fieldAt walks a body.
type jsonLevel struct {
	object  bool
	key     string // objects: the key of the value being read
	index   int    // arrays: the index of the value being read
	wantKey bool   // objects: the next string is a key
}

// fieldAt returns where in body the string spanning offset at lies: the
// path of its value ("user_name", "user_ids[2]", "detail.note"), or of the
// object whose key it is (inKey; "request body" at the top). It returns ""
// when body is not JSON up to there or at is outside every string.
func fieldAt(body []byte, at int) (where string, inKey bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []jsonLevel
	for {
		start := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		end := int(dec.InputOffset())
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				stack = append(stack, jsonLevel{object: d == '{', wantKey: d == '{'})
				continue
			}
			stack = stack[:len(stack)-1]
		} else if s, ok := tok.(string); ok {
			key := len(stack) > 0 && stack[len(stack)-1].wantKey
			if start <= at && at < end {
				if key {
					return pathOf(stack[:len(stack)-1]), true
				}
				return pathOf(stack), false
			}
			if key {
				top := &stack[len(stack)-1]
				top.key, top.wantKey = s, false
				continue
			}
		}
		// A whole value was read: the next one in its container follows.
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.object {
				top.wantKey = true
			} else {
				top.index++
			}
		}
	}
}

// pathOf joins the keys and indexes of stack (the innermost last); the
// empty path is "request body".
func pathOf(stack []jsonLevel) string {
	var b []byte
	for _, l := range stack {
		if !l.object {
			b = append(append(append(b, '['), strconv.Itoa(l.index)...), ']')
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, l.key...)
	}
	if len(b) == 0 {
		return "request body"
	}
	return string(b)
}
