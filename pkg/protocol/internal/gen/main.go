// Command gen rewrites the tables generated from package protocol (see
// package render) under the repository root given as its argument (default
// the current directory): make protocol.
package main

import (
	"fmt"
	"os"

	"github.com/houseview/gateway/pkg/protocol/internal/render"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	if err := render.Write(root); err != nil {
		fmt.Fprintln(os.Stderr, "protocol tables:", err)
		os.Exit(1)
	}
}
