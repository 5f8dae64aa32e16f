package web

import (
	"slices"
	"strings"

	"github.com/a-h/templ"
)

// AppPage is what every page of the responders' UI shows around its content: the document title, who is signed in,
// the navigation, a flash of what just happened or went wrong, and the CSRF token its forms carry.
type AppPage struct {
	Title string
	User  AppUser
	CSRF  string
	// Nav lists the navigation; Current is the Href of the item to mark as the current page.
	Nav     []NavLink
	Current string
	Flash   string
	Error   string
	// Zone names the organisation's time zone, in which every time on the page is written.
	Zone string
}

// AppUser is the signed-in person.
type AppUser struct {
	Name, Email, Role string
}

// NavLink is one navigation item.
type NavLink struct{ Label, Href string }

// SignedIn reports whether someone is signed in (the sign-in page has no one).
func (p AppPage) SignedIn() bool { return p.User.Email != "" }

func navAttrs(p AppPage, href string) templ.Attributes {
	if href == p.Current || (href != "/app/incidents" && strings.HasPrefix(p.Current, href+"/")) {
		return templ.Attributes{"aria-current": "page"}
	}
	return templ.Attributes{}
}

// Stamp is a time as the UI writes it: machine-readable, and as text in the organisation's zone with the zone named.
type Stamp struct{ Datetime, Text string }

// Login is the sign-in form.
type Login struct {
	Email, Next, Error string
}

// Users is the admin's list of users and the form to add one.
type Users struct {
	Users []UserRow
	Roles []string
	Form  NewUserForm
}

// UserRow is one user.
type UserRow struct{ ID, Email, Name, Role string }

// NewUserForm is the add-user form as submitted, kept when it is refused.
type NewUserForm struct {
	Email, Name, Role string
	Errors            map[string]string
}

// Tokens is the admin's list of API tokens; Created holds a token just made, shown this once.
type Tokens struct {
	Tokens             []TokenRow
	Users              []string
	Scopes             []string
	Created            string
	FormUser, FormName string
}

// TokenRow is one API token (never the token itself).
type TokenRow struct {
	ID, Name, Prefix, User, Scopes string
	Created, LastUsed              Stamp
	Revoked                        bool
}

// Option is one choice of a select or a set of checkboxes.
type Option struct{ Value, Label string }

// IncidentList is the incident list: active incidents first, then closed ones a page at a time, and the filters.
type IncidentList struct {
	Active, Past                     []IncidentRow
	NextPage                         string
	Paged                            bool
	Kind, Stage, Severity, Component string
	Query                            string
	Stages, Components               []Option
	Severities                       []string
	CanDeclare                       bool
}

// IncidentRow is one incident in the list.
type IncidentRow struct {
	Key, Title, Kind, State, Severity, Priority, Components string
	Declared                                                Stamp
	Clock                                                   Clock
	Open                                                    bool
}

// Clock is where an incident stands against its update cadence.
type Clock struct {
	Running, Overdue bool
	Text             string
	Due              Stamp
	// Idle says in words why no update is due when the clock does not run.
	Idle string
}

// CriteriaOptions are the values the criteria fields take.
type CriteriaOptions struct{ Severities, Urgencies, Impacts []string }

// CriteriaForm is the four criteria as typed.
type CriteriaForm struct {
	Severity, Urgency, CustomersAffected, Regions string
	Global                                        bool
	BusinessImpact                                []string
}

// HasImpact reports whether the impact was ticked.
func (c CriteriaForm) HasImpact(i string) bool { return slices.Contains(c.BusinessImpact, i) }

// DeclareForm is the declaration form, as typed, with its errors and the verdict of its criteria.
type DeclareForm struct {
	Title, Description string
	// DetectedAt and ImpactStartedAt are optional local times (datetime-local, in Zone) as typed.
	DetectedAt, ImpactStartedAt string
	Zone                        string
	Components                  []string
	Criteria                    CriteriaForm
	Errors                      map[string]string
	Verdict                     *Verdict
	AllComponents               []Option
	Options                     CriteriaOptions
}

// Verdict is a classification, criterion by criterion.
type Verdict struct {
	Kind     string         `json:"kind"`
	Reason   string         `json:"reason"`
	Priority string         `json:"priority"`
	Impact   string         `json:"impact"`
	Criteria []CriterionRow `json:"criteria"`
}

// CriterionRow is one criterion of a verdict.
type CriterionRow struct {
	Name   string `json:"name"`
	Met    bool   `json:"met"`
	Reason string `json:"reason"`
}

func contains(list []string, v string) bool { return slices.Contains(list, v) }

// WarRoom is one incident's war room: where it stands in the process, what is missing to move on and the controls
// that supply it, who holds which role, and everything done so far.
type WarRoom struct {
	Key, Title, Description, Kind, Priority, Severity, Status, Reason string
	Version                                                           int
	Major, Open, Concluded, CanGoBack, CanAct, IsIC                   bool
	// IsAdmin and IsComms say what the signed-in person is, so the page offers the controls their role allows.
	IsAdmin, IsComms                                                 bool
	Declared                                                         Stamp
	Stages                                                           []StageStep
	StageTitle, Next, NextValue                                      string
	Guards                                                           []GuardRow
	Clock                                                            Clock
	IC, Comms                                                        *Holder
	Tech, Sponsors                                                   []Holder
	Assignable, Sponsorable                                          []Option
	Bridges                                                          []BridgeView
	Actions, Restorations, Escalations                               []ActionRow
	Verification                                                     *ActionRow
	Updates                                                          []UpdateRow
	Components                                                       []ComponentRow
	Tickets                                                          []TicketRow
	Timeline                                                         []TimelineRow
	TimelineTypes                                                    []string
	TimelineFilter                                                   string
	Verdict                                                          *Verdict
	Criteria                                                         CriteriaForm
	Options                                                          CriteriaOptions
	UpdateStatuses, ComponentStatuses, ActionKinds, RestorationKinds []string
	// Failed names the form that was refused, and Kept what was typed into it, shown again.
	Failed string
	Kept   map[string][]string
	// Preview is the composer's body rendered as the public page will show it (no-JavaScript preview).
	Preview string
}

// Keep returns what was typed into a field of the form that was refused, or def.
func (w WarRoom) Keep(form, field, def string) string {
	if w.Failed == form {
		if vs := w.Kept[field]; len(vs) > 0 {
			return vs[0]
		}
	}
	return def
}

// MayMove reports whether the signed-in person may move the stage: the IC, or an admin (concluding is the IC's act
// alone).
func (w WarRoom) MayMove() bool {
	if w.NextValue == "concluded" {
		return w.IsIC
	}
	return w.IsIC || w.IsAdmin
}

// MayDraft reports whether the signed-in person may draft updates.
func (w WarRoom) MayDraft() bool { return w.IsIC || w.IsComms || w.IsAdmin || !w.Major }

// AllMet reports whether every guard of the current stage holds.
func (w WarRoom) AllMet() bool {
	for _, g := range w.Guards {
		if !g.Met {
			return false
		}
	}
	return true
}

// Bridge returns the bridge of a kind.
func (w WarRoom) Bridge(kind string) BridgeView {
	for _, b := range w.Bridges {
		if b.Kind == kind {
			return b
		}
	}
	return BridgeView{Kind: kind}
}

// StageStep is one stage of the tracker: done, current or todo.
type StageStep struct{ Title, State string }

// GuardRow is one condition to leave the current stage.
type GuardRow struct {
	Code, Message string
	Met           bool
}

// Holder is a person or group in a role.
type Holder struct {
	Name, Email, Group     string
	Assigned, Acknowledged Stamp
}

// Label is the holder's name, or group.
func (h Holder) Label() string {
	if h.Group != "" && h.Name == "" {
		return h.Group + " (resolver group)"
	}
	return h.Name
}

// BridgeView is a conference bridge.
type BridgeView struct {
	Kind, URL string
	Open      bool
	Opened    Stamp
	// Closed is set for a bridge that was opened and is closed now (by hand or by the conclusion); ClosedAt is when.
	Closed   bool
	ClosedAt Stamp
}

// ActionRow is an action, restoration or verification.
type ActionRow struct {
	Kind, Description, By string
	At                    Stamp
	Reverted              bool
}

// UpdateRow is a status update and who drafted, approved and published it.
type UpdateRow struct {
	ID, State, Status, BodyHTML        string
	DraftedBy, ApprovedBy, PublishedBy string
	Drafted, Approved, Published       Stamp
	Components                         []string
	Superseded                         bool
}

// ComponentRow is an affected component and the status this incident last published for it.
type ComponentRow struct{ Slug, Name, Status string }

// TicketRow is a linked support ticket.
type TicketRow struct {
	System, Ref, URL string
	Logged           int
	Linked           Stamp
}

// TimelineRow is one timeline entry.
type TimelineRow struct {
	What, Detail, Who, Channel string
	At                         Stamp
}

// ComponentsPage is the components configuration: each component's form, and one to add a component.
type ComponentsPage struct {
	Components []ComponentForm
	Groups     []string
	New        ComponentForm
}

// ComponentForm is a component as edited.
type ComponentForm struct {
	Slug, Name, Group, Description, Position, Status string
	Core, ControlPlane, Editing                      bool
	Errors                                           map[string]string
}
