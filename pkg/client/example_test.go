package client_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/houseview/gateway/pkg/client"
)

// A service that keeps user 1001's notifications flowing across gateway
// restarts, drains and Redis resets, and resumes where it stopped the
// next time it runs (the position is kept in a directory). Run a gateway
// in insecure mode (`make run`), then this; push with
// curl -XPOST localhost:8080/api/push -H 'Authorization: Bearer dev-api-key-0123456789' -d '{"user_ids":[1001],"title":"t","content":"hi"}'.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, client.Options{
		URLs:   []string{"ws://127.0.0.1:8080", "ws://127.0.0.1:8081"}, // rotated through on reconnects
		UserID: 1001,                                                   // insecure mode; jwt mode: Token or TokenFunc
		Store:  client.NewFileStore(os.TempDir() + "/gateway-positions"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	go func() {
		for e := range c.Events() { // optional: connects, resets, errors
			log.Printf("%s %+v %v", e.Kind, e.Info, e.Err)
		}
	}()
	for n := range c.Notifications() { // each once, in order within an epoch
		fmt.Printf("seq %d (type %d): %s\n", n.Seq, n.Type, n.Content)
	}
}
