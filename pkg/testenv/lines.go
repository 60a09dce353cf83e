package testenv

import (
	"bytes"
	"io"
)

// lineWriter passes everything written on to next and hands each complete
// line (without its newline) to line. One writer at a time, as exec.Cmd's
// copying goroutine is.
type lineWriter struct {
	next    io.Writer
	line    func([]byte)
	partial []byte // the start of a line whose newline has not come yet
}

func (w *lineWriter) Write(p []byte) (int, error) {
	rest := p
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		if len(w.partial) > 0 {
			w.line(append(w.partial, rest[:i]...))
			w.partial = w.partial[:0]
		} else {
			w.line(rest[:i])
		}
		rest = rest[i+1:]
	}
	w.partial = append(w.partial, rest...)
	return w.next.Write(p)
}
