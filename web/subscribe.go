package web

// SubscribePage is the public subscription form and its outcome.
type SubscribePage struct {
	Name       string
	CSRF       string
	Components []SubscribeComponent
	Channel    string
	Address    string
	// NoEmail is set when mim sends no email (no SMTP configured): the email option is not offered.
	NoEmail bool
	// Error is a problem with the request, shown above the form.
	Error string
	// Done is set once the request was taken: what happens next.
	Done string
	// Secret and ManageURL are shown once to a new webhook, Slack or Teams subscriber.
	Secret    string
	ManageURL string
}

// SubscribeComponent is one component a subscriber may choose.
type SubscribeComponent struct {
	Slug, Name string
	Checked    bool
}

// ManagePage is a subscriber's own page: what it follows, and the way out.
type ManagePage struct {
	Name       string
	Token      string
	CSRF       string
	Address    string
	Status     string
	All        bool
	Components []SubscribeComponent
	Notice     string
}

// NoticePage is a one-message public page (confirmed, unsubscribed, link not valid).
type NoticePage struct {
	Name, Title, Message string
	// Form, when set, is a confirmation button posting to this path (GET never changes state).
	Form, Button string
}
