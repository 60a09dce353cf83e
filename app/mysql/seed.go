package mysql

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// DemoHouseCount is how many demo houses SeedDemoHouses writes: ids 3001 to
// 3000+DemoHouseCount, landlords 2001 to 2040. House 3001 is the README's
// "精装修两室一厅" of landlord 2001.
const DemoHouseCount = 300

var demoCities = []struct {
	city      string
	districts []string
	basePrice int
}{
	{"北京", []string{"朝阳", "海淀", "东城", "丰台", "通州"}, 6500},
	{"上海", []string{"浦东", "徐汇", "静安", "闵行", "杨浦"}, 6800},
	{"广州", []string{"天河", "越秀", "海珠", "番禺"}, 4200},
	{"深圳", []string{"南山", "福田", "罗湖", "宝安", "龙华"}, 5600},
	{"杭州", []string{"西湖", "滨江", "拱墅", "余杭"}, 4000},
	{"成都", []string{"锦江", "武侯", "高新", "青羊"}, 2800},
}

var demoLayouts = []struct {
	name  string
	rooms int
	area  float64
}{
	{"单间", 1, 22}, {"一室一厅", 1, 45}, {"两室一厅", 2, 72}, {"两室两厅", 2, 88},
	{"三室一厅", 3, 105}, {"三室两厅", 3, 128}, {"四室两厅", 4, 160},
}

var demoAdjectives = []string{"精装修", "南北通透", "近地铁", "拎包入住", "采光好", "温馨", "高层景观", "学区", "新上", "安静"}

var demoTags = []string{"近地铁", "精装修", "押一付一", "随时看房", "有电梯", "南向", "独立卫浴", "可养宠物", "带阳台", "停车位"}

// SeedDemoHouses fills an empty houses table with DemoHouseCount realistic
// houses across six cities. It is deterministic and safe to run from several
// nodes at once (INSERT IGNORE on fixed ids); a table that has any house is
// left alone.
func SeedDemoHouses(ctx context.Context, db *gorm.DB, now time.Time) (int, error) {
	var n int64
	if err := db.WithContext(ctx).Table("houses").Count(&n).Error; err != nil {
		return 0, fmt.Errorf("seed: count houses: %w", err)
	}
	if n > 0 {
		return 0, nil
	}
	houses := DemoHouses(now)
	res := db.WithContext(ctx).Clauses(clause.Insert{Modifier: "IGNORE"}).CreateInBatches(houses, 100)
	if res.Error != nil {
		return 0, fmt.Errorf("seed: insert houses: %w", res.Error)
	}
	return int(res.RowsAffected), nil
}

// DemoHouses returns the demo rows, newest first by id order reversed in
// time: house 3001 is the oldest listing.
func DemoHouses(now time.Time) []*houseRow {
	r := rand.New(rand.NewPCG(3001, 2001))
	rows := make([]*houseRow, 0, DemoHouseCount)
	for i := 0; i < DemoHouseCount; i++ {
		c := demoCities[i%len(demoCities)]
		l := demoLayouts[r.IntN(len(demoLayouts))]
		adj := demoAdjectives[r.IntN(len(demoAdjectives))]
		district := c.districts[r.IntN(len(c.districts))]
		if i == 0 {
			c, district, adj, l = demoCities[0], "朝阳", "精装修", demoLayouts[2]
		}
		price := c.basePrice*l.rooms*3/4 + r.IntN(1500)
		price -= price % 50
		tags := make([]string, 2+r.IntN(3))
		for i, j := range r.Perm(len(demoTags))[:len(tags)] {
			tags[i] = demoTags[j]
		}
		rows = append(rows, &houseRow{
			ID:         int64(3001 + i),
			LandlordID: int64(2001 + i%40),
			Title:      adj + l.name,
			City:       c.city,
			District:   district,
			Price:      price,
			Rooms:      l.rooms,
			Area:       l.area + float64(r.IntN(20)),
			Tags:       strings.Join(tags, ","),
			CreatedAt:  now.Add(-time.Duration(DemoHouseCount-i) * 6 * time.Hour).UTC().Truncate(time.Millisecond),
		})
	}
	return rows
}
