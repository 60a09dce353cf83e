// Package sql embeds the versioned MySQL migrations (goose format) that
// create and evolve the gateway's schema. Importers usually name it gwsql.
package sql

import "embed"

// Migrations holds every *.sql migration of this directory.
//
//go:embed *.sql
var Migrations embed.FS
