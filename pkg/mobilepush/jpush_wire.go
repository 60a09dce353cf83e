package mobilepush

// jpushPush is the push object of POST /v3/push.
type jpushPush struct {
	Platform     string            `json:"platform"`
	Audience     jpushAudience     `json:"audience"`
	Notification jpushNotification `json:"notification"`
	Options      jpushOptions      `json:"options"`
}

type jpushAudience struct {
	RegistrationID []string `json:"registration_id"`
}

type jpushNotification struct {
	Alert   string        `json:"alert"`
	Android *jpushAndroid `json:"android,omitempty"`
	IOS     *jpushIOS     `json:"ios,omitempty"`
}

type jpushAndroid struct {
	Alert  string            `json:"alert"`
	Title  string            `json:"title,omitempty"`
	Extras map[string]string `json:"extras,omitempty"`
}

// jpushIOS's Alert is a string, or an object with title and body.
type jpushIOS struct {
	Alert  any               `json:"alert"`
	Badge  *int              `json:"badge,omitempty"`
	Extras map[string]string `json:"extras,omitempty"`
}

type jpushOptions struct {
	APNsProduction bool   `json:"apns_production"`
	APNsCollapseID string `json:"apns_collapse_id,omitempty"`
}

// jpushBody builds the push object for m.
func jpushBody(m Message, apnsProduction bool) jpushPush {
	var iosAlert any = m.Body
	if m.Title != "" {
		iosAlert = map[string]string{"title": m.Title, "body": m.Body}
	}
	return jpushPush{
		Platform: "all",
		Audience: jpushAudience{RegistrationID: []string{m.Token}},
		Notification: jpushNotification{
			Alert:   m.Body,
			Android: &jpushAndroid{Alert: m.Body, Title: m.Title, Extras: m.Data},
			IOS:     &jpushIOS{Alert: iosAlert, Badge: m.Badge, Extras: m.Data},
		},
		Options: jpushOptions{APNsProduction: apnsProduction, APNsCollapseID: m.CollapseKey},
	}
}
