package web

// The admin's pages of public notification: the subscribers and the delivery log.

// Subscribers is the admin's list of public subscribers and the form to add one.
type Subscribers struct {
	Rows []SubscriberRow
	// Channels are the channels a subscriber may use; Components the slugs to choose from.
	Channels, Components []string
	// The form, kept when refused.
	FormChannel, FormAddress string
	FormComponents           []string
	FieldErrors              map[string]string
	// Created is the new subscriber; Secret its webhook signing secret and ManageURL its manage link, shown once.
	Created, Secret, ManageURL string
}

// SubscriberRow is one subscriber. Address is masked to scheme and host for URL channels (the path of a Slack or
// Teams URL is its credential).
type SubscriberRow struct {
	ID, Channel, Address, Components string
	// State is confirmed, pending or deactivated; Reason says why it is deactivated.
	State, Reason string
	Since         Stamp
	CanReactivate bool
}

// Deliveries is the delivery log, filtered, one page of it.
type Deliveries struct {
	Rows                    []DeliveryRow
	Status, Topic, Incident string
	Statuses                []string
	NextURL                 string
	FilterError             string
}

// DeliveryRow is one delivery.
type DeliveryRow struct {
	ID, Channel, Target, Topic, Incident, Status, LastError string
	Attempts                                                int
	Updated                                                 Stamp
	CanRetry                                                bool
}
