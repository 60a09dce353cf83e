package reservation_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/houseview/gateway/app"
	"github.com/houseview/gateway/app/apptest"
)

// MustBookHouse books house for user, hours ahead.
func MustBookHouse(tb testing.TB, env *apptest.Env, user, houseID int64, hours int) {
	tb.Helper()
	_, err := env.Service.CreateReservation(context.Background(), app.CreateReservation{
		HouseID: houseID, TenantID: user, TenantName: "用户", ReserveTime: env.ReserveTime(time.Duration(hours) * time.Hour)})
	if err != nil {
		tb.Fatalf("book %d for %d: %v", houseID, user, err)
	}
}

func ids(hs []*app.House) []int64 {
	out := make([]int64, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

func TestRecommendOrdersByPopularityThenNewest(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	// 3010 gets three bookings, 3005 two, 3200 one.
	for i, h := range []int64{3010, 3010, 3010, 3005, 3005, 3200} {
		MustBookHouse(t, env, int64(5000+i), h, i+1)
	}
	res, err := env.Service.RecommendHouses(ctx, app.HouseFilter{Page: app.Page{PageSize: 6}})
	if err != nil {
		t.Fatal(err)
	}
	hs, total := res.Houses, res.Total
	// Then newest first: the demo data makes higher ids newer.
	want := []int64{3010, 3005, 3200, 3300, 3299, 3298}
	if diff := cmp.Diff(want, ids(hs)); diff != "" || total != 300 {
		t.Errorf("total %d; ids (-want +got):\n%s", total, diff)
	}
	if hs[0].Popularity != 3 || hs[1].Popularity != 2 || hs[3].Popularity != 0 {
		t.Errorf("popularity = %d, %d, %d", hs[0].Popularity, hs[1].Popularity, hs[3].Popularity)
	}

	// Filters narrow, and every house returned matches them.
	f := app.HouseFilter{City: "上海", MinPrice: 8000, MaxPrice: 12000, Rooms: 2, Page: app.Page{PageSize: 100}}
	res, err = env.Service.RecommendHouses(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	hs, total = res.Houses, res.Total
	if total == 0 || total != len(hs) {
		t.Fatalf("filtered: %d of %d", len(hs), total)
	}
	for _, h := range hs {
		if h.City != "上海" || h.Price < 8000 || h.Price > 12000 || h.Rooms != 2 {
			t.Errorf("house %+v does not match the filter", h)
		}
	}
	for _, bad := range []app.HouseFilter{{MinPrice: -1}, {MinPrice: 5000, MaxPrice: 100}, {Page: app.Page{PageSize: 101}}} {
		if _, err := env.Service.RecommendHouses(ctx, bad); app.ErrorCode(err) != app.EInvalidArgument {
			t.Errorf("filter %+v: %v", bad, err)
		}
	}
}

func TestPersonalRecommend(t *testing.T) {
	env := apptest.MustEnv(t)
	ctx := context.Background()
	const user = 7001
	res, err := env.Service.RecommendHouses(ctx, app.HouseFilter{City: "上海", District: "徐汇", Page: app.Page{PageSize: 100}})
	houses := res.Houses
	if err != nil || len(houses) < 3 {
		t.Fatalf("need 3 houses in 上海/徐汇: %v %d", err, len(houses))
	}
	booked := map[int64]bool{}
	for i, h := range houses[:2] {
		MustBookHouse(t, env, user, h.ID, i+1)
		booked[h.ID] = true
	}
	mine, err := env.Service.PersonalRecommendHouses(ctx, user, app.Page{PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	hs, total := mine.Houses, mine.Total
	if total == 0 || len(hs) == 0 {
		t.Fatal("no personal recommendations")
	}
	for i, h := range hs {
		if booked[h.ID] {
			t.Errorf("already booked house %d recommended", h.ID)
		}
		if h.City != "上海" {
			t.Errorf("house %d in %s, want the user's city 上海", h.ID, h.City)
		}
		if i > 0 && h.Score > hs[i-1].Score {
			t.Errorf("score rises at %d: %v after %v", i, h.Score, hs[i-1].Score)
		}
	}
	if hs[0].District != "徐汇" {
		t.Errorf("best match is in %s, want 徐汇 (score %v)", hs[0].District, hs[0].Score)
	}

	// A user with no history gets the popular list.
	fresh, err := env.Service.PersonalRecommendHouses(ctx, 7002, app.Page{PageSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	popular, err := env.Service.RecommendHouses(ctx, app.HouseFilter{Page: app.Page{PageSize: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(popular.Houses), ids(fresh.Houses)); diff != "" {
		t.Errorf("new user (-popular +got):\n%s", diff)
	}
}
