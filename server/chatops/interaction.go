package chatops

import (
	"encoding/json"
	"errors"
	"net/url"

	"github.com/slack-go/slack"
)

// interactionOf reads the interaction a Slack interactivity request
// carries, JSON in its payload field.
func interactionOf(body []byte) (slack.InteractionCallback, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.InteractionCallback{}, err
	}
	payload := form.Get("payload")
	if payload == "" {
		return slack.InteractionCallback{}, errors.New("no payload")
	}
	var callback slack.InteractionCallback
	if err := json.Unmarshal([]byte(payload), &callback); err != nil {
		return slack.InteractionCallback{}, err
	}
	return callback, nil
}
