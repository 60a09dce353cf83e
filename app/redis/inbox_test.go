package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/redis"
	"github.com/houseview/gateway/pkg/testenv"
)

type inboxEnv struct {
	rdb   *goredis.Client
	keys  redis.Keys
	pub   *redis.Publisher
	inbox *redis.Inbox
}

func newInboxEnv(tb testing.TB, history int) inboxEnv {
	tb.Helper()
	db, rdb := testenv.MustRedisDB(tb)
	keys := redis.NewKeys(testenv.RandomName("inbox"), db)
	c := redis.New(rdb, keys)
	return inboxEnv{rdb: rdb, keys: keys, pub: redis.NewPublisher(c, redis.PublisherOptions{HistorySize: history, HistoryTTL: time.Hour}),
		inbox: redis.NewInbox(c)}
}

// publish sends n messages to user and returns the epoch.
func (e inboxEnv) publish(tb testing.TB, user int64, n int) string {
	tb.Helper()
	var epoch string
	for start := 0; start < n; start += 500 {
		msgs := make([]app.Message, min(500, n-start))
		for i := range msgs {
			msgs[i] = mustMessage(tb, user, "m")
		}
		pos, err := e.pub.PublishBatch(context.Background(), msgs)
		if err != nil {
			tb.Fatal(err)
		}
		epoch = pos[0].Epoch
	}
	return epoch
}

// states lists every stored message's states, oldest first, as "seq:srA".
func (e inboxEnv) states(tb testing.TB, user int64) []string {
	tb.Helper()
	page, err := e.inbox.List(context.Background(), user, app.InboxQuery{State: app.FilterAll, Limit: redis.MaxInboxLimit})
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]string, len(page.Items))
	for i, it := range page.Items {
		s := fmt.Sprintf("%d:", it.Seq)
		for _, f := range []struct {
			on bool
			c  string
		}{{it.Seen, "s"}, {it.Read, "r"}, {it.Archived, "a"}} {
			if f.on {
				s += f.c
			}
		}
		out[len(out)-1-i] = s
	}
	return out
}

func TestInboxMarks(t *testing.T) {
	ctx := context.Background()
	type step struct {
		mark app.InboxMark
		want app.InboxCounts
	}
	cases := []struct {
		name   string
		steps  []step
		states []string
	}{
		{"read one", []step{{app.InboxMark{State: app.StateRead, Seq: 3}, app.InboxCounts{Unseen: 4, Unread: 4}}},
			[]string{"1:", "2:", "3:sr", "4:", "5:"}},
		{"seen one", []step{{app.InboxMark{State: app.StateSeen, Seq: 2}, app.InboxCounts{Unseen: 4, Unread: 5}}},
			[]string{"1:", "2:s", "3:", "4:", "5:"}},
		{"archive one", []step{{app.InboxMark{State: app.StateArchived, Seq: 5}, app.InboxCounts{Unseen: 4, Unread: 4}}},
			[]string{"1:", "2:", "3:", "4:", "5:sra"}},
		{"seen up to", []step{{app.InboxMark{State: app.StateSeen, UpTo: 3}, app.InboxCounts{Unseen: 2, Unread: 5}}},
			[]string{"1:s", "2:s", "3:s", "4:", "5:"}},
		{"read up to past the head", []step{{app.InboxMark{State: app.StateRead, UpTo: 99}, app.InboxCounts{}}},
			[]string{"1:sr", "2:sr", "3:sr", "4:sr", "5:sr"}},
		{"archive all", []step{{app.InboxMark{State: app.StateArchived, All: true}, app.InboxCounts{}}},
			[]string{"1:sra", "2:sra", "3:sra", "4:sra", "5:sra"}},
		{"read all", []step{{app.InboxMark{State: app.StateRead, All: true}, app.InboxCounts{}}},
			[]string{"1:sr", "2:sr", "3:sr", "4:sr", "5:sr"}},
		{"flags under a rising watermark", []step{
			{app.InboxMark{State: app.StateRead, Seq: 2}, app.InboxCounts{Unseen: 4, Unread: 4}},
			{app.InboxMark{State: app.StateArchived, Seq: 4}, app.InboxCounts{Unseen: 3, Unread: 3}},
			{app.InboxMark{State: app.StateSeen, Seq: 5}, app.InboxCounts{Unseen: 2, Unread: 3}},
			{app.InboxMark{State: app.StateSeen, UpTo: 4}, app.InboxCounts{Unseen: 0, Unread: 3}},
			{app.InboxMark{State: app.StateRead, UpTo: 3}, app.InboxCounts{Unseen: 0, Unread: 1}},
		}, []string{"1:sr", "2:sr", "3:sr", "4:sra", "5:s"}},
		{"repeated marks change nothing", []step{
			{app.InboxMark{State: app.StateRead, Seq: 1}, app.InboxCounts{Unseen: 4, Unread: 4}},
			{app.InboxMark{State: app.StateRead, Seq: 1}, app.InboxCounts{Unseen: 4, Unread: 4}},
			{app.InboxMark{State: app.StateSeen, Seq: 1}, app.InboxCounts{Unseen: 4, Unread: 4}},
			{app.InboxMark{State: app.StateSeen, UpTo: 2}, app.InboxCounts{Unseen: 3, Unread: 4}},
			{app.InboxMark{State: app.StateSeen, UpTo: 2}, app.InboxCounts{Unseen: 3, Unread: 4}},
			{app.InboxMark{State: app.StateSeen, UpTo: 1}, app.InboxCounts{Unseen: 3, Unread: 4}},
		}, []string{"1:sr", "2:s", "3:", "4:", "5:"}},
	}
	env := newInboxEnv(t, 100)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			user := int64(i + 1)
			env.publish(t, user, 5)
			var prev app.Marked
			for j, s := range tc.steps {
				got, err := env.inbox.Mark(ctx, user, s.mark)
				if err != nil {
					t.Fatalf("step %d: %v", j, err)
				}
				if got.InboxCounts != s.want {
					t.Errorf("step %d %+v: counts %+v, want %+v", j, s.mark, got.InboxCounts, s.want)
				}
				if j > 0 && got.InboxCounts == prev.InboxCounts && got.Changed && tc.name == "repeated marks change nothing" && j != 3 {
					t.Errorf("step %d: a repeated mark reported a change", j)
				}
				prev = got
			}
			if diff := cmp.Diff(tc.states, env.states(t, user)); diff != "" {
				t.Errorf("states (-want +got):\n%s", diff)
			}
			if c, err := env.inbox.Counts(ctx, user); err != nil || c != prev.InboxCounts {
				t.Errorf("Counts = %+v, %v; want %+v", c, err, prev.InboxCounts)
			}
		})
	}
}

func TestInboxMarkRefusesBadMarks(t *testing.T) {
	ctx := context.Background()
	env := newInboxEnv(t, 3)
	epoch := env.publish(t, 1, 5) // stores 3..5
	cases := []struct {
		mark app.InboxMark
		code string
		text string
	}{
		{app.InboxMark{State: "opened", Seq: 4}, app.EInvalidArgument, "state must be"},
		{app.InboxMark{State: app.StateRead}, app.EInvalidArgument, "exactly one of seq, up_to and all"},
		{app.InboxMark{State: app.StateRead, Seq: 4, All: true}, app.EInvalidArgument, "exactly one"},
		{app.InboxMark{State: app.StateRead, Seq: -1}, app.EInvalidArgument, "must be positive"},
		{app.InboxMark{State: app.StateRead, Seq: 2}, app.ENotFound, "seq 2 is not stored: the stored seqs are 3 to 5"},
		{app.InboxMark{State: app.StateRead, Seq: 6}, app.ENotFound, "seq 6 is not stored"},
		{app.InboxMark{State: app.StateRead, Seq: 4, Epoch: "other"}, app.EFailedPrecondition, "is not the inbox's current epoch"},
		{app.InboxMark{State: app.StateRead, Seq: 4, Epoch: "bad-epoch"}, app.EInvalidArgument, "epoch must be"},
	}
	for _, tc := range cases {
		_, err := env.inbox.Mark(ctx, 1, tc.mark)
		if app.ErrorCode(err) != tc.code || !strings.Contains(app.ErrorMessage(err), tc.text) {
			t.Errorf("Mark(%+v) = %v; want %s %q", tc.mark, err, tc.code, tc.text)
		}
	}
	if _, err := env.inbox.Mark(ctx, 2, app.InboxMark{State: app.StateRead, All: true}); app.ErrorCode(err) != app.EFailedPrecondition {
		t.Errorf("marking a user without a stream: %v", err)
	}
	if _, err := env.inbox.Mark(ctx, 1, app.InboxMark{State: app.StateRead, Seq: 4, Epoch: epoch}); err != nil {
		t.Errorf("mark with the current epoch: %v", err)
	}
}

// TestInboxTrimDropsStates: a flag of a message trimmed from the history
// goes with it, and the counts follow the stored messages.
func TestInboxTrimDropsStates(t *testing.T) {
	ctx := context.Background()
	env := newInboxEnv(t, 3)
	env.publish(t, 1, 3)
	// Out of order: flags (in order, the watermarks would rise instead).
	for _, m := range []app.InboxMark{{State: app.StateRead, Seq: 2}, {State: app.StateSeen, Seq: 3}} {
		if _, err := env.inbox.Mark(ctx, 1, m); err != nil {
			t.Fatal(err)
		}
	}
	if h, _ := env.rdb.HGetAll(ctx, env.keys.Stream(1)).Result(); h["!2"] != "3" || h["!3"] != "1" || h["inbox"] != "0 0 0 2 1 2" {
		t.Fatalf("stream hash before the trim: %v", h)
	}
	env.publish(t, 1, 2) // trims 1 and 2
	if diff := cmp.Diff([]string{"3:s", "4:", "5:"}, env.states(t, 1)); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	h, _ := env.rdb.HGetAll(ctx, env.keys.Stream(1)).Result()
	if _, ok := h["!2"]; ok || h["!3"] != "1" || h["inbox"] != "0 0 0 1 0 1" {
		t.Errorf("stream hash after the trim: %v", h)
	}
	if c, _ := env.inbox.Counts(ctx, 1); c != (app.InboxCounts{Unseen: 2, Unread: 3}) {
		t.Errorf("counts %+v, want 2 unseen 3 unread", c)
	}
	// A watermark below the stored messages counts only what is stored.
	if _, err := env.inbox.Mark(ctx, 1, app.InboxMark{State: app.StateSeen, UpTo: 4}); err != nil {
		t.Fatal(err)
	}
	env.publish(t, 1, 5) // stores 8..10
	if c, _ := env.inbox.Counts(ctx, 1); c != (app.InboxCounts{Unseen: 3, Unread: 3}) {
		t.Errorf("counts %+v, want 3 unseen 3 unread", c)
	}
}

// TestInboxResetDropsStates: a stream Redis lost comes back with a new
// epoch and no states; marks of the old epoch are refused.
func TestInboxResetDropsStates(t *testing.T) {
	ctx := context.Background()
	env := newInboxEnv(t, 10)
	old := env.publish(t, 1, 4)
	if _, err := env.inbox.Mark(ctx, 1, app.InboxMark{State: app.StateRead, All: true}); err != nil {
		t.Fatal(err)
	}
	env.rdb.Del(ctx, env.keys.Stream(1)) // lost (expired, evicted, flushed)
	epoch := env.publish(t, 1, 2)
	if epoch == old {
		t.Fatal("no new epoch")
	}
	if diff := cmp.Diff([]string{"1:", "2:"}, env.states(t, 1)); diff != "" {
		t.Errorf("states (-want +got):\n%s", diff)
	}
	if _, err := env.inbox.Mark(ctx, 1, app.InboxMark{State: app.StateRead, Seq: 1, Epoch: old}); app.ErrorCode(err) != app.EFailedPrecondition {
		t.Errorf("mark of the old epoch: %v", err)
	}
}

// TestInboxMatchesAModel: random publishes and marks keep the states and
// counts of a plain model.
func TestInboxMatchesAModel(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { inboxModel(t, rand.New(rand.NewPCG(seed, 2))) })
	}
}

func inboxModel(t *testing.T, r *rand.Rand) {
	ctx := context.Background()
	const history = 12
	env := newInboxEnv(t, history)
	var head int64
	model := map[int64]int{} // seq -> bits
	bits := map[string]int{app.StateSeen: 1, app.StateRead: 3, app.StateArchived: 7}
	states := []string{app.StateSeen, app.StateRead, app.StateArchived}
	for step := range 600 {
		if r.IntN(3) == 0 || head == 0 {
			n := 1 + r.IntN(3)
			env.publish(t, 1, n)
			for range n {
				head++
				model[head] = 0
				delete(model, head-history)
			}
			continue
		}
		st := states[r.IntN(3)]
		var m app.InboxMark
		oldest := max(head-history+1, 1)
		switch r.IntN(3) {
		case 0:
			m = app.InboxMark{State: st, Seq: oldest + r.Int64N(head-oldest+1)}
			model[m.Seq] |= bits[st]
		case 1:
			m = app.InboxMark{State: st, UpTo: max(1, oldest-2+r.Int64N(head-oldest+4))}
			for s := range model {
				if s <= m.UpTo {
					model[s] |= bits[st]
				}
			}
		default:
			m = app.InboxMark{State: st, All: true}
			for s := range model {
				model[s] |= bits[st]
			}
		}
		got, err := env.inbox.Mark(ctx, 1, m)
		if err != nil {
			t.Fatalf("step %d %+v: %v", step, m, err)
		}
		var want app.InboxCounts
		var wantStates []string
		for s := max(head-history+1, 1); s <= head; s++ {
			b := model[s]
			if b&1 == 0 {
				want.Unseen++
			}
			if b&2 == 0 {
				want.Unread++
			}
			wantStates = append(wantStates, fmt.Sprintf("%d:%s%s%s", s, map[bool]string{true: "s"}[b&1 != 0],
				map[bool]string{true: "r"}[b&2 != 0], map[bool]string{true: "a"}[b&4 != 0]))
		}
		if got.InboxCounts != want {
			t.Fatalf("step %d %+v: counts %+v, want %+v", step, m, got.InboxCounts, want)
		}
		if diff := cmp.Diff(wantStates, env.states(t, 1)); diff != "" {
			t.Fatalf("step %d %+v: states (-want +got):\n%s", step, m, diff)
		}
	}
}

// TestInboxMarkAllOf10000: marking all read with 10,000 stored messages,
// a third of them flagged one by one, is one script run that leaves no
// flag behind.
func TestInboxMarkAllOf10000(t *testing.T) {
	ctx := context.Background()
	const stored = 10000
	env := newInboxEnv(t, stored)
	env.publish(t, 1, stored)
	for s := int64(1); s <= stored; s += 3 {
		if _, err := env.inbox.Mark(ctx, 1, app.InboxMark{State: app.StateSeen, Seq: s}); err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := env.inbox.Counts(ctx, 1); c != (app.InboxCounts{Unseen: stored - 3334, Unread: stored}) {
		t.Fatalf("counts before: %+v", c)
	}
	start := time.Now()
	got, err := env.inbox.Mark(ctx, 1, app.InboxMark{State: app.StateRead, All: true})
	took := time.Since(start)
	if err != nil || got.InboxCounts != (app.InboxCounts{}) || !got.Changed {
		t.Fatalf("mark all: %+v, %v", got, err)
	}
	t.Logf("marking 10,000 stored messages read took %v", took)
	if took > 2*time.Second {
		t.Errorf("marking all took %v", took)
	}
	if n, _ := env.rdb.HLen(ctx, env.keys.Stream(1)).Result(); n > stored+20 {
		t.Errorf("the stream hash has %d fields: flags were left", n)
	}
	page, err := env.inbox.List(ctx, 1, app.InboxQuery{State: app.FilterUnread})
	if err != nil || len(page.Items) != 0 || page.NextCursor != "" {
		t.Errorf("unread list after marking all read: %d items, cursor %q, %v", len(page.Items), page.NextCursor, err)
	}
}

// TestInboxCountsArePublished: a mark that changes something publishes the
// new counts on the user's channel, and every message carries the counts
// after it.
func TestInboxCountsArePublished(t *testing.T) {
	ctx := context.Background()
	env := newInboxEnv(t, 10)
	sub := env.rdb.Subscribe(ctx, env.keys.Channel(1))
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	env.publish(t, 1, 2)
	if _, err := env.inbox.Mark(ctx, 1, app.InboxMark{State: app.StateRead, Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.inbox.Mark(ctx, 1, app.InboxMark{State: app.StateRead, Seq: 1}); err != nil { // no change: nothing published
		t.Fatal(err)
	}
	env.publish(t, 1, 1)
	var got []string
	for range 4 {
		msg, err := sub.ReceiveMessage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if redis.IsControl(msg.Payload) {
			got = append(got, msg.Payload)
			continue
		}
		env, ok := redis.ParseEnvelope(1, msg.Payload)
		if !ok || !env.HasCounts || strings.Contains(string(env.Raw), "\n") {
			t.Fatalf("published %q: not an envelope with counts", msg.Payload)
		}
		got = append(got, fmt.Sprintf("seq %d: %d %d", env.Seq, env.Counts.Unseen, env.Counts.Unread))
	}
	want := []string{"seq 1: 1 1", "seq 2: 2 2", `{"control":"inbox","unseen":1,"unread":1}`, "seq 3: 2 2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}

func TestInboxListPagesAndFilters(t *testing.T) {
	ctx := context.Background()
	env := newInboxEnv(t, 1000)
	env.publish(t, 1, 1200) // stores 201..1200
	for _, m := range []app.InboxMark{{State: app.StateRead, UpTo: 300}, {State: app.StateArchived, Seq: 1100}, {State: app.StateSeen, Seq: 1199}} {
		if _, err := env.inbox.Mark(ctx, 1, m); err != nil {
			t.Fatal(err)
		}
	}
	collect := func(q app.InboxQuery) []int64 {
		var seqs []int64
		for pages := 0; ; pages++ {
			page, err := env.inbox.List(ctx, 1, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				seqs = append(seqs, it.Seq)
			}
			if page.NextCursor == "" || pages > 1000 {
				return seqs
			}
			q.Before = page.NextCursor
		}
	}
	if s := collect(app.InboxQuery{Limit: 7}); len(s) != 999 || s[0] != 1200 || s[998] != 201 || contains(s, 1100) {
		t.Errorf("inbox: %d items, first %d", len(s), s[0])
	}
	if s := collect(app.InboxQuery{State: app.FilterUnseen, Limit: 3}); len(s) != 1000-100-2 || contains(s, 1199) || contains(s, 250) {
		t.Errorf("unseen: %d items", len(s))
	}
	if s := collect(app.InboxQuery{State: app.FilterRead}); len(s) != 100 || s[0] != 300 {
		t.Errorf("read: %v", s)
	}
	if s := collect(app.InboxQuery{State: app.FilterArchived, Limit: 1}); !cmp.Equal(s, []int64{1100}) {
		t.Errorf("archived: %v", s)
	}
	if s := collect(app.InboxQuery{State: app.FilterAll, Type: app.MsgReservationCreated}); len(s) != 0 {
		t.Errorf("type filter: %v", s)
	}
	if s := collect(app.InboxQuery{State: app.FilterAll, Type: app.MsgGenericPush, Limit: 500}); len(s) != 1000 {
		t.Errorf("type filter: %d", len(s))
	}
	for _, q := range []app.InboxQuery{{State: "new"}, {Limit: 501}, {Before: "x"}, {Before: "5-other"}} {
		if _, err := env.inbox.List(ctx, 1, q); err == nil {
			t.Errorf("List(%+v) accepted", q)
		}
	}
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestInboxFootprint measures what the states cost in Redis: a message
// marked on its own (the worst case: a field each), and a user whose
// messages are all marked (watermarks and counters: a few fields).
func TestInboxFootprint(t *testing.T) {
	for _, c := range []struct{ users, each int64 }{{200, 50}, {10, redis.DefaultHistorySize}} {
		t.Run(fmt.Sprintf("%d stored", c.each), func(t *testing.T) { inboxFootprint(t, c.users, c.each) })
	}
}

func inboxFootprint(t *testing.T, users, each int64) {
	ctx := context.Background()
	env := newInboxEnv(t, int(each))
	for u := int64(1); u <= users; u++ {
		env.publish(t, u, int(each))
	}
	// The stream hashes' own memory (MEMORY USAGE), not the server's: other
	// tests share it.
	used := func() int64 {
		var n int64
		for u := int64(1); u <= users; u++ {
			m, err := env.rdb.MemoryUsage(ctx, env.keys.Stream(u), 0).Result()
			if err != nil {
				t.Fatal(err)
			}
			n += m
		}
		return n
	}
	base := used()
	// Every other message: flags (marked in order from the oldest, they
	// would raise the watermark instead).
	for u := int64(1); u <= users; u++ {
		for s := int64(2); s <= each; s += 2 {
			if _, err := env.inbox.Mark(ctx, u, app.InboxMark{State: app.StateSeen, Seq: s}); err != nil {
				t.Fatal(err)
			}
		}
	}
	flagged := used()
	for u := int64(1); u <= users; u++ {
		if _, err := env.inbox.Mark(ctx, u, app.InboxMark{State: app.StateRead, All: true}); err != nil {
			t.Fatal(err)
		}
	}
	marked := used()
	perFlag := float64(flagged-base) / float64(users*each/2)
	perUser := float64(marked-base) / float64(users)
	t.Logf("Redis memory: %.1f B per message marked on its own, %.1f B per user once all are marked (watermarks; a hash "+
		"that grew for the flags keeps its buckets)", perFlag, perUser)
	// A flag is one hash field; marking all leaves three watermarks, three
	// counters and, in a large hash, the bucket array the flags grew (8 B
	// per bucket, up to two per stored message).
	if perFlag > 64 || perUser > float64(512+16*each) {
		t.Errorf("states cost %.1f B per flagged message, %.1f B per user", perFlag, perUser)
	}
}
