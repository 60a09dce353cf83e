package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// pushBody is the JSON of one push request, written by hand: the pusher
// must not be the slow part.
func pushBody(ids []int64, title string, schedNS, sentNS int64, step int) []byte {
	b := make([]byte, 0, 160+len(ids)*8)
	b = append(b, `{"user_ids":[`...)
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, `],"title":`...)
	b = strconv.AppendQuote(b, title)
	b = append(b, `,"content":"loadgen message","detail":{"sched_ns":`...)
	b = strconv.AppendInt(b, schedNS, 10)
	b = append(b, `,"sent_ns":`...)
	b = strconv.AppendInt(b, sentNS, 10)
	b = append(b, `,"step":`...)
	b = strconv.AppendInt(b, int64(step), 10)
	return append(b, "}}"...)
}

// pushAnswer is one result of POST /api/push.
type pushAnswer struct {
	UserID int64  `json:"user_id"`
	Epoch  string `json:"epoch"`
	Seq    int64  `json:"seq"`
	ID     string `json:"id"`
}

// postPush sends a push request for n users and returns the results.
func postPush(ctx context.Context, client *http.Client, node, apiKey string, body []byte, n int) ([]pushAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, node+"/api/push", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("push %s: %d %s", node, resp.StatusCode, bytes.TrimSpace(b))
	}
	var reply struct {
		Results []pushAnswer `json:"results"`
	}
	if err := json.Unmarshal(b, &reply); err != nil {
		return nil, fmt.Errorf("push %s: bad reply: %w", node, err)
	}
	if len(reply.Results) != n {
		return nil, fmt.Errorf("push %s: %d results for %d users", node, len(reply.Results), n)
	}
	return reply.Results, nil
}
