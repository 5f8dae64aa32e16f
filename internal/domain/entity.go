package domain

import "time"

// Component is a part of the service whose status customers see.
type Component struct {
	ID           string          `json:"id"`
	Slug         string          `json:"slug"`
	Name         string          `json:"name"`
	Group        string          `json:"group,omitempty"`
	Description  string          `json:"description,omitempty"`
	Core         bool            `json:"core"`
	ControlPlane bool            `json:"control_plane"`
	Status       ComponentStatus `json:"status"`
	Position     int             `json:"position"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
}

// User is an account of the organisation.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      OrgRole   `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// Actor is who performs a command, and through which channel.
type Actor struct {
	UserID  string  `json:"id,omitempty"`
	Name    string  `json:"name"`
	Email   string  `json:"email,omitempty"`
	OrgRole OrgRole `json:"-"`
	Channel Channel `json:"-"`
	// TokenID is the API token the actor used; TokenCreatedBy, who made that token when it was not the actor.
	TokenID        string `json:"token_id,omitempty"`
	TokenCreatedBy string `json:"token_created_by,omitempty"`
}

// SystemActor is mim itself, for what happens on a timer.
var SystemActor = Actor{Name: "mim", OrgRole: OrgAdmin, Channel: ChannelSystem}

// Person is a user as recorded on an incident (a role holder, an approver).
type Person struct {
	UserID string `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
}

// PersonOf returns the Person for a user.
func PersonOf(u User) Person { return Person{UserID: u.ID, Name: u.Name, Email: u.Email} }

// Scope is the classification criterion of how widely an incident reaches.
type Scope struct {
	CustomersAffected int      `json:"customers_affected"`
	Regions           []string `json:"regions"`
	Global            bool     `json:"global"`
}

// Criteria are the four inputs of classification.
type Criteria struct {
	Severity       Severity         `json:"severity"`
	Scope          Scope            `json:"scope"`
	BusinessImpact []BusinessImpact `json:"business_impact"`
	Urgency        Urgency          `json:"urgency"`
}

// CriterionResult says whether one criterion is met, and why.
type CriterionResult struct {
	Met    bool   `json:"met"`
	Reason string `json:"reason"`
}

// Override is an admin's decision to classify an incident against the policy's verdict.
type Override struct {
	Kind   Kind      `json:"kind"`
	Reason string    `json:"reason"`
	By     Person    `json:"by"`
	At     time.Time `json:"at"`
}

// Classification is the verdict of the classification policy on an incident's criteria, kept with the incident so a
// reader can see why it is (not) major.
type Classification struct {
	PolicyVersion  int             `json:"policy_version"`
	Kind           Kind            `json:"kind"`
	Reason         string          `json:"reason"`
	Severity       CriterionResult `json:"severity"`
	Scope          CriterionResult `json:"scope"`
	BusinessImpact CriterionResult `json:"business_impact"`
	Urgency        CriterionResult `json:"urgency"`
	CriteriaMet    int             `json:"criteria_met"`
	Impact         string          `json:"impact"`
	Priority       string          `json:"priority"`
	Override       *Override       `json:"override,omitempty"`
}

// EffectiveKind is the policy's kind unless an admin overrode it.
func (c Classification) EffectiveKind() Kind {
	if c.Override != nil {
		return c.Override.Kind
	}
	return c.Kind
}
