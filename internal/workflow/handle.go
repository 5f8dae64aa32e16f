package workflow

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// Handle decides what a command does to an incident: the events it produces, or an *domain.Error saying why not
// (forbidden, invalid, conflict with unmet guards). It never changes s. now is the time stamped on the events.
func Handle(s Incident, a domain.Actor, cmd Command, now time.Time) ([]Event, error) {
	if err := mayAct(s, a, cmd); err != nil {
		return nil, err
	}
	switch c := cmd.(type) {
	case Declare:
		if s.ID != "" || s.Key != "" || s.Kind != "" {
			// Declaring over an incident would wipe its state on Apply and its history on Replay.
			return nil, domain.Errorf(domain.ErrConflict, "already_declared", "%s is already declared", s.Key)
		}
		return declare(c, now)
	case Reclassify:
		return reclassify(s, a, c, now)
	case AssignRole:
		return assignRole(s, a, c, now)
	case RemoveRole:
		return removeRole(s, c, now)
	case AcknowledgeIC:
		ic := s.Roles.IncidentCommander
		if ic.AcknowledgedAt != nil {
			return nil, domain.Errorf(domain.ErrConflict, "already_acknowledged",
				"%s acknowledged at %s", ic.Name, ic.AcknowledgedAt.Format(time.RFC3339))
		}
		return []Event{ev(EventICAcknowledged, now, &ICAcknowledged{Person: ic.Person})}, nil
	case OpenBridge:
		return openBridge(s, a, c, now)
	case CloseBridge:
		if err := validKind(c.Kind); err != nil {
			return nil, err
		}
		if !s.Bridges[c.Kind].Open() {
			return nil, domain.Errorf(domain.ErrConflict, "bridge_not_open", "the %s bridge is not open", c.Kind)
		}
		return []Event{ev(EventBridgeClosed, now, &BridgeClosed{Kind: c.Kind})}, nil
	case LogAction:
		var v domain.Validator
		domain.OneOf(&v, "kind", c.Kind, domain.ActionKinds)
		required(&v, "description", c.Description)
		limit(&v, "description", c.Description, maxText)
		if err := v.Err(); err != nil {
			return nil, err
		}
		if len(s.Actions) >= maxActions {
			return nil, tooMany("actions", maxActions)
		}
		return []Event{ev(EventActionLogged, now, &ActionLogged{ID: c.ID, Kind: c.Kind,
			Description: strings.TrimSpace(c.Description), By: a.Name})}, nil
	case DraftUpdate:
		return draftUpdate(s, a, c, now)
	case ApproveUpdate:
		return approveUpdate(s, a, c, now)
	case PublishUpdate:
		u, ok := s.Update(c.ID)
		if !ok {
			return nil, domain.Errorf(domain.ErrNotFound, "not_found", "no update %s on %s", c.ID, s.Key)
		}
		if u.State != StateApproved {
			return nil, domain.Errorf(domain.ErrConflict, "update_not_approved",
				"update %s is %s; only an approved update can be published", c.ID, u.State)
		}
		return publish(s, a, u, now), nil
	case RecordRestoration:
		var v domain.Validator
		domain.OneOf(&v, "kind", c.Kind, domain.RestorationKinds)
		required(&v, "description", c.Description)
		limit(&v, "description", c.Description, maxText)
		v.Check(len(s.Restorations) < maxActions, "kind", "too many restorations recorded")
		if err := v.Err(); err != nil {
			return nil, err
		}
		return []Event{ev(EventRestorationRecorded, now, &RestorationRecorded{ID: c.ID, Kind: c.Kind,
			Description: strings.TrimSpace(c.Description), By: a.Name})}, nil
	case RecordVerification:
		return recordVerification(s, a, c, now)
	case MoveStage:
		return moveStage(s, c, now)
	case SetStatus:
		return setStatus(s, c, now)
	case Escalate:
		var v domain.Validator
		domain.OneOf(&v, "kind", c.Kind, domain.EscalationKinds)
		required(&v, "target", c.Target)
		required(&v, "reason", c.Reason)
		limit(&v, "target", c.Target, maxShort)
		limit(&v, "reason", c.Reason, maxReason)
		v.Check(len(s.Escalations) < maxActions, "kind", "too many escalations recorded")
		if err := v.Err(); err != nil {
			return nil, err
		}
		if c.Automatic {
			// Only mim's own timer escalates automatically, and only once: a second run of the timer (another
			// process, a restart) must not engage the executives again.
			if a.Channel != domain.ChannelSystem {
				return nil, forbidden("only mim escalates automatically")
			}
			for _, e := range s.Escalations {
				if e.Automatic {
					return nil, domain.Errorf(domain.ErrConflict, "already_escalated",
						"%s was already escalated automatically", s.Key)
				}
			}
		}
		return []Event{ev(EventEscalated, now, &Escalated{Kind: c.Kind, Target: strings.TrimSpace(c.Target),
			Reason: strings.TrimSpace(c.Reason), Automatic: c.Automatic, By: a.Name})}, nil
	case LinkTicket:
		return linkTicket(s, a, c, now)
	case SetMilestone:
		return setMilestone(s, c, now)
	case FoldAlert:
		return []Event{ev(EventAlertFolded, now, &AlertFolded{Count: s.AlertCount + 1})}, nil
	case SetVisibility:
		var v domain.Validator
		limit(&v, "reason", c.Reason, maxReason)
		if err := v.Err(); err != nil {
			return nil, err
		}
		if c.Private == s.Private {
			return nil, domain.Errorf(domain.ErrConflict, "visibility_unchanged", "%s is already %s", s.Key,
				map[bool]string{true: "private", false: "public"}[s.Private])
		}
		return []Event{ev(EventVisibilityChanged, now, &VisibilityChanged{Private: c.Private,
			Reason: strings.TrimSpace(c.Reason)})}, nil
	}
	return nil, domain.Internal(fmt.Errorf("workflow: unknown command %T", cmd))
}

func declare(c Declare, now time.Time) ([]Event, error) {
	var v domain.Validator
	required(&v, "title", c.Title)
	limit(&v, "title", c.Title, 300)
	limit(&v, "description", c.Description, maxText)
	limit(&v, "source", c.Source, maxShort)
	limit(&v, "dedup_key", c.DedupKey, maxShort)
	v.Check(len(c.Components) <= maxList, "components", fmt.Sprintf("at most %d components", maxList))
	ValidateCriteria(&v, c.Criteria)
	detected := now
	if c.DetectedAt != nil {
		detected = *c.DetectedAt
		v.Check(!detected.After(now), "detected_at", "must not be in the future")
	}
	if c.ImpactStartedAt != nil {
		v.Check(!c.ImpactStartedAt.After(detected), "impact_started_at", "must not be after detected_at")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	d := &Declared{
		ID: c.ID, Key: c.Key, Title: strings.TrimSpace(c.Title), Description: strings.TrimSpace(c.Description),
		Source: c.Source, DedupKey: c.DedupKey, RecurrenceOf: c.RecurrenceOf, Components: dedupe(c.Components),
		Criteria: c.Criteria, Classification: c.Classification, DetectedAt: detected.UTC(),
	}
	if c.ImpactStartedAt != nil {
		t := c.ImpactStartedAt.UTC()
		d.ImpactStartedAt = &t
	}
	return []Event{ev(EventDeclared, now, d)}, nil
}

// ValidateCriteria checks the four classification criteria.
func ValidateCriteria(v *domain.Validator, c domain.Criteria) {
	domain.OneOf(v, "severity", c.Severity, domain.Severities)
	domain.OneOf(v, "urgency", c.Urgency, domain.Urgencies)
	v.Check(c.Scope.CustomersAffected >= 0, "scope.customers_affected", "must not be negative")
	v.Check(len(c.Scope.Regions) <= maxList, "scope.regions", fmt.Sprintf("at most %d regions", maxList))
	for i, r := range c.Scope.Regions {
		limit(v, fmt.Sprintf("scope.regions[%d]", i), r, 64)
	}
	v.Check(len(c.BusinessImpact) <= len(domain.BusinessImpacts)*2, "business_impact", "too many entries")
	for i, b := range c.BusinessImpact {
		domain.OneOf(v, fmt.Sprintf("business_impact[%d]", i), b, domain.BusinessImpacts)
	}
}

func reclassify(s Incident, a domain.Actor, c Reclassify, now time.Time) ([]Event, error) {
	var v domain.Validator
	ValidateCriteria(&v, c.Criteria)
	limit(&v, "reason", c.Reason, maxReason)
	if c.Override != nil {
		limit(&v, "override.reason", c.Override.Reason, maxReason)
		domain.OneOf(&v, "override.kind", c.Override.Kind, domain.Kinds)
		required(&v, "override.reason", c.Override.Reason)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cl := c.Classification
	if c.Override != nil {
		o := *c.Override
		o.At = now
		cl.Override = &o
	}
	to := s.Kind
	switch {
	case s.Kind == domain.KindStandard && s.Status == domain.StatusOpen && cl.EffectiveKind() == domain.KindMajor:
		to = domain.KindMajor // promotion: the workflow starts
	case s.Kind == domain.KindMajor && s.Stage == domain.StageDetectionDeclaration &&
		cl.EffectiveKind() == domain.KindStandard:
		to = domain.KindStandard // new facts before mobilization: not major after all
	}
	return []Event{ev(EventClassified, now, &Classified{Criteria: c.Criteria, Classification: cl,
		Reason: strings.TrimSpace(c.Reason), From: s.Kind, To: to})}, nil
}

func assignRole(s Incident, a domain.Actor, c AssignRole, now time.Time) ([]Event, error) {
	var v domain.Validator
	domain.OneOf(&v, "role", c.Role, domain.Roles)
	if c.Role == domain.RoleTechnicalLead {
		v.Check(c.Person.UserID != "" || strings.TrimSpace(c.Group) != "", "user", "a user or a group is required")
	} else {
		v.Check(c.Person.UserID != "", "user", "is required")
		v.Check(c.Group == "", "group", "only technical leads may be a resolver group")
	}
	limit(&v, "group", c.Group, maxShort)
	if err := v.Err(); err != nil {
		return nil, err
	}
	h := RoleHolder{Person: c.Person, Group: strings.TrimSpace(c.Group), AssignedAt: now}
	e := &RoleAssigned{Role: c.Role, Holder: h}
	switch c.Role {
	case domain.RoleIncidentCommander, domain.RoleCommunicationsLead:
		cur := s.Roles.IncidentCommander
		if c.Role == domain.RoleCommunicationsLead {
			cur = s.Roles.CommunicationsLead
		}
		if cur != nil {
			if cur.UserID == c.Person.UserID {
				return nil, domain.Errorf(domain.ErrConflict, "already_assigned", "%s is already the %s",
					cur.Name, roleTitle(c.Role))
			}
			p := cur.Person
			e.Previous = &p
		}
	default:
		list := s.Roles.TechnicalLeads
		if c.Role == domain.RoleExecutiveSponsor {
			list = s.Roles.ExecutiveSponsors
		}
		if len(list) >= maxList {
			return nil, tooMany(string(c.Role)+"s", maxList)
		}
		for _, x := range list {
			if (c.Person.UserID != "" && x.UserID == c.Person.UserID) || (h.Group != "" && x.Group == h.Group) {
				return nil, domain.Errorf(domain.ErrConflict, "already_assigned", "already a %s", roleTitle(c.Role))
			}
		}
	}
	return []Event{ev(EventRoleAssigned, now, e)}, nil
}

func removeRole(s Incident, c RemoveRole, now time.Time) ([]Event, error) {
	if c.Role.Single() || !c.Role.Valid() {
		return nil, domain.Invalid(domain.FieldError{Field: "role",
			Message: "only technical_lead and executive_sponsor are removed; hand the single roles over instead",
			Allowed: []string{string(domain.RoleTechnicalLead), string(domain.RoleExecutiveSponsor)}})
	}
	list := s.Roles.TechnicalLeads
	if c.Role == domain.RoleExecutiveSponsor {
		list = s.Roles.ExecutiveSponsors
	}
	for _, x := range list {
		if (c.UserID != "" && x.UserID == c.UserID) || (c.Group != "" && x.Group == c.Group) {
			return []Event{ev(EventRoleRemoved, now, &RoleRemoved{Role: c.Role, UserID: x.UserID, Group: x.Group})}, nil
		}
	}
	return nil, domain.Errorf(domain.ErrNotFound, "not_found", "no such %s on %s", roleTitle(c.Role), s.Key)
}

func openBridge(s Incident, a domain.Actor, c OpenBridge, now time.Time) ([]Event, error) {
	if err := validKind(c.Kind); err != nil {
		return nil, err
	}
	var v domain.Validator
	u, err := url.Parse(strings.TrimSpace(c.URL))
	v.Check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "", "url",
		"must be an absolute http or https URL")
	limit(&v, "url", c.URL, maxReason)
	v.Check(len(c.Invitees) <= maxList, "invitees", fmt.Sprintf("at most %d invitees", maxList))
	for i, inv := range c.Invitees {
		at := strings.LastIndex(inv, "@")
		v.Check(at > 0 && at < len(inv)-1 && len(inv) <= maxEmailLen && !strings.ContainsAny(inv, " <>,;"),
			fmt.Sprintf("invitees[%d]", i), "must be an email address")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if b := s.Bridges[c.Kind]; b.Open() && b.URL == strings.TrimSpace(c.URL) && slices.Equal(b.Invitees, c.Invitees) {
		return nil, domain.Errorf(domain.ErrConflict, "bridge_already_open", "the %s bridge is already open at that URL", c.Kind)
	}
	inv := append([]string{}, c.Invitees...)
	return []Event{ev(EventBridgeOpened, now, &BridgeOpened{Kind: c.Kind, URL: strings.TrimSpace(c.URL),
		Invitees: inv, By: a.Name})}, nil
}

func draftUpdate(s Incident, a domain.Actor, c DraftUpdate, now time.Time) ([]Event, error) {
	var v domain.Validator
	domain.OneOf(&v, "status", c.Status, domain.UpdateStatuses)
	required(&v, "body", c.Body)
	limit(&v, "body", c.Body, 20000)
	v.Check(len(c.Components) <= maxList, "components", fmt.Sprintf("at most %d components", maxList))
	for slug, st := range c.Components {
		domain.OneOf(&v, "components."+slug, st, domain.ComponentStatuses)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(s.Updates) >= maxUpdates {
		return nil, tooMany("updates", maxUpdates)
	}
	comps := cloneMap(c.Components)
	by := personOf(a)
	evs := []Event{ev(EventUpdateDrafted, now, &UpdateDrafted{ID: c.ID, Status: c.Status,
		Body: strings.TrimSpace(c.Body), Components: comps, By: by})}
	if !c.Publish {
		return evs, nil
	}
	if s.Kind == domain.KindMajor {
		evs = append(evs, ev(EventUpdateApproved, now, &UpdateApproved{ID: c.ID, By: by}))
	}
	u := Update{ID: c.ID, Status: c.Status, Components: comps}
	return append(evs, publish(s, a, &u, now)...), nil
}

func approveUpdate(s Incident, a domain.Actor, c ApproveUpdate, now time.Time) ([]Event, error) {
	u, ok := s.Update(c.ID)
	if !ok {
		return nil, domain.Errorf(domain.ErrNotFound, "not_found", "no update %s on %s", c.ID, s.Key)
	}
	if u.State != StateDraft {
		return nil, domain.Errorf(domain.ErrConflict, "update_not_draft", "update %s is already %s", c.ID, u.State)
	}
	evs := []Event{ev(EventUpdateApproved, now, &UpdateApproved{ID: c.ID, By: personOf(a)})}
	if c.Publish || s.Kind != domain.KindMajor {
		evs = append(evs, publish(s, a, u, now)...)
	}
	return evs, nil
}

// publish makes an update public and logs it on every linked ticket.
func publish(s Incident, a domain.Actor, u *Update, now time.Time) []Event {
	evs := []Event{ev(EventUpdatePublished, now, &UpdatePublished{ID: u.ID, By: personOf(a)})}
	for _, t := range s.Tickets {
		evs = append(evs, ev(EventTicketLogged, now, &TicketLogged{TicketID: t.ID, UpdateID: u.ID, Status: u.Status}))
	}
	return evs
}

func recordVerification(s Incident, a domain.Actor, c RecordVerification, now time.Time) ([]Event, error) {
	var v domain.Validator
	required(&v, "method", c.Method)
	limit(&v, "method", c.Method, maxReason)
	v.Check(len(c.Accepted) <= maxList, "accepted_components", "too many components")
	for i, slug := range c.Accepted {
		v.Check(slices.Contains(s.Components, slug), fmt.Sprintf("accepted_components[%d]", i),
			fmt.Sprintf("%q is not an affected component; one of %s", slug, strings.Join(s.Components, ", ")))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if s.activeRestoration() == nil {
		return nil, &domain.Error{Kind: domain.ErrConflict, Code: "guards_unmet",
			Message: "record the resolution or workaround before verifying service",
			Unmet:   []domain.Guard{{Code: GuardRestorationRecorded, Message: "a resolution or workaround is recorded as implemented"}}}
	}
	return []Event{ev(EventVerificationRecorded, now, &VerificationRecorded{Method: strings.TrimSpace(c.Method),
		Accepted: dedupe(c.Accepted), By: personOf(a)})}, nil
}

func moveStage(s Incident, c MoveStage, now time.Time) ([]Event, error) {
	var v domain.Validator
	domain.OneOf(&v, "to", c.To, domain.Stages)
	limit(&v, "note", c.Note, maxReason)
	limit(&v, "reason", c.Reason, maxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	allowed := domain.Strings(AllowedMoves(s))
	if c.To == s.Stage {
		return nil, &domain.Error{Kind: domain.ErrConflict, Code: "already_in_stage",
			Message: fmt.Sprintf("%s is already in %s", s.Key, s.Stage.Title()), Allowed: allowed}
	}
	if c.To == Next(s.Stage) {
		if unmet := Unmet(Guards(s)); len(unmet) > 0 {
			return nil, &domain.Error{Kind: domain.ErrConflict, Code: "guards_unmet",
				Message: fmt.Sprintf("cannot leave %s: %s", s.Stage.Title(), guardMessages(unmet)), Unmet: unmet}
		}
		var out []Event
		if c.To == domain.StageConcluded {
			// Concluding closes every open bridge; each closing is on the timeline, as if closed by hand.
			for _, k := range domain.BridgeKinds {
				if s.Bridges[k].Open() {
					out = append(out, ev(EventBridgeClosed, now, &BridgeClosed{Kind: k}))
				}
			}
		}
		return append(out, ev(EventStageChanged, now, &StageChanged{From: s.Stage, To: c.To,
			Note: strings.TrimSpace(c.Note), Reason: strings.TrimSpace(c.Reason)})), nil
	}
	if backwardAllowed(s.Stage, c.To) {
		if strings.TrimSpace(c.Reason) == "" {
			return nil, domain.Invalid(domain.FieldError{Field: "reason",
				Message: "is required to go back to " + c.To.Title()})
		}
		return []Event{ev(EventStageChanged, now, &StageChanged{From: s.Stage, To: c.To,
			Note: strings.TrimSpace(c.Note), Reason: strings.TrimSpace(c.Reason), Backward: true})}, nil
	}
	return nil, &domain.Error{Kind: domain.ErrConflict, Code: "invalid_transition",
		Message: fmt.Sprintf("cannot move from %s to %s; allowed: %s", s.Stage, c.To, strings.Join(allowed, ", ")),
		Allowed: allowed}
}

func setStatus(s Incident, c SetStatus, now time.Time) ([]Event, error) {
	var v domain.Validator
	domain.OneOf(&v, "to", c.To, domain.StandardStatuses)
	limit(&v, "reason", c.Reason, maxReason)
	if err := v.Err(); err != nil {
		return nil, err
	}
	allowed := map[domain.StandardStatus][]domain.StandardStatus{
		domain.StatusOpen:     {domain.StatusResolved},
		domain.StatusResolved: {domain.StatusClosed, domain.StatusOpen},
		domain.StatusClosed:   {domain.StatusOpen},
	}[s.Status]
	if !slices.Contains(allowed, c.To) {
		code := "invalid_transition"
		if c.To == s.Status {
			code = "already_in_status"
		}
		return nil, &domain.Error{Kind: domain.ErrConflict, Code: code,
			Message: fmt.Sprintf("cannot move %s from %s to %s", s.Key, s.Status, c.To), Allowed: domain.Strings(allowed)}
	}
	if c.To == domain.StatusResolved {
		if ps := s.PublicStatus(); ps != "" && ps != domain.UpdateResolved {
			return nil, &domain.Error{Kind: domain.ErrConflict, Code: "guards_unmet",
				Message: fmt.Sprintf("customers were told %s is %s: publish an update with status resolved first", s.Key, ps),
				Unmet: []domain.Guard{{Code: GuardResolvedUpdatePublished,
					Message: "a final public update with status resolved is published"}}}
		}
	}
	if c.To == domain.StatusOpen && strings.TrimSpace(c.Reason) == "" {
		return nil, domain.Invalid(domain.FieldError{Field: "reason", Message: "is required to reopen"})
	}
	return []Event{ev(EventStatusChanged, now, &StatusChanged{From: s.Status, To: c.To,
		Reason: strings.TrimSpace(c.Reason)})}, nil
}

func linkTicket(s Incident, a domain.Actor, c LinkTicket, now time.Time) ([]Event, error) {
	var v domain.Validator
	required(&v, "system", c.System)
	required(&v, "ref", c.Ref)
	limit(&v, "system", c.System, maxShort)
	limit(&v, "ref", c.Ref, maxShort)
	limit(&v, "url", c.URL, maxReason)
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		v.Check(err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "", "url",
			"must be an absolute http or https URL")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if len(s.Tickets) >= maxTickets {
		return nil, tooMany("tickets", maxTickets)
	}
	for _, t := range s.Tickets {
		if strings.EqualFold(t.System, strings.TrimSpace(c.System)) && t.Ref == strings.TrimSpace(c.Ref) {
			return nil, domain.Errorf(domain.ErrConflict, "ticket_already_linked", "%s %s is already linked", t.System, t.Ref)
		}
	}
	return []Event{ev(EventTicketLinked, now, &TicketLinked{ID: c.ID, System: strings.TrimSpace(c.System),
		Ref: strings.TrimSpace(c.Ref), URL: c.URL, By: a.Name})}, nil
}

func setMilestone(s Incident, c SetMilestone, now time.Time) ([]Event, error) {
	if !slices.Contains(SettableMilestones, c.Milestone) {
		return nil, domain.Invalid(domain.FieldError{Field: "milestone",
			Message: fmt.Sprintf("%q cannot be set by hand; one of %s", c.Milestone,
				strings.Join(domain.Strings(SettableMilestones), ", ")),
			Allowed: domain.Strings(SettableMilestones)})
	}
	if c.At.IsZero() {
		return nil, domain.Invalid(domain.FieldError{Field: "at", Message: "is required"})
	}
	if c.At.After(now) {
		return nil, domain.Invalid(domain.FieldError{Field: "at", Message: "must not be in the future"})
	}
	if err := CheckMilestoneOrder(s.Milestones, c.Milestone, c.At); err != nil {
		return nil, err
	}
	return []Event{ev(EventMilestoneSet, now, &MilestoneSet{Milestone: c.Milestone, At: c.At.UTC()})}, nil
}

// CheckMilestoneOrder refuses a time for m that would put it out of order with the milestones already set.
func CheckMilestoneOrder(ms map[domain.Milestone]time.Time, m domain.Milestone, at time.Time) error {
	for _, p := range milestoneOrder {
		if p[1] == m {
			if before, ok := ms[p[0]]; ok && at.Before(before) {
				return domain.Invalid(domain.FieldError{Field: "at", Message: fmt.Sprintf(
					"%s (%s) cannot be before %s (%s)", m, at.UTC().Format(time.RFC3339), p[0], before.UTC().Format(time.RFC3339))})
			}
		}
		if p[0] == m {
			if after, ok := ms[p[1]]; ok && at.After(after) {
				return domain.Invalid(domain.FieldError{Field: "at", Message: fmt.Sprintf(
					"%s (%s) cannot be after %s (%s)", m, at.UTC().Format(time.RFC3339), p[1], after.UTC().Format(time.RFC3339))})
			}
		}
	}
	return nil
}

func validKind(k domain.BridgeKind) error {
	var v domain.Validator
	domain.OneOf(&v, "kind", k, domain.BridgeKinds)
	return v.Err()
}

func required(v *domain.Validator, field, value string) {
	v.Check(strings.TrimSpace(value) != "", field, "is required")
}

// Limits on what one command may add, so an incident's state stays a size every read can afford.
const (
	maxShort    = 200   // names, references, targets
	maxReason   = 2000  // reasons, notes, methods, URLs
	maxText     = 10000 // descriptions
	maxList     = 100   // invitees, regions, accepted components
	maxActions  = 2000
	maxUpdates  = 1000
	maxTickets  = 500
	maxEmailLen = 254
)

// limit refuses a text longer than n characters.
func limit(v *domain.Validator, field, value string, n int) {
	v.Check(len([]rune(value)) <= n, field, fmt.Sprintf("must be at most %d characters", n))
}

// tooMany refuses adding to a list that is full.
func tooMany(what string, n int) error {
	return domain.Errorf(domain.ErrConflict, "limit_reached", "this incident already has the maximum of %d %s", n, what)
}

func personOf(a domain.Actor) domain.Person {
	return domain.Person{UserID: a.UserID, Name: a.Name, Email: a.Email}
}

func roleTitle(r domain.Role) string {
	switch r {
	case domain.RoleIncidentCommander:
		return "Incident Commander"
	case domain.RoleCommunicationsLead:
		return "Communications Lead"
	case domain.RoleTechnicalLead:
		return "Technical Lead"
	case domain.RoleExecutiveSponsor:
		return "Executive Sponsor"
	}
	return string(r)
}

func guardMessages(gs []domain.Guard) string {
	msgs := make([]string, len(gs))
	for i, g := range gs {
		msgs[i] = g.Message
	}
	return strings.Join(msgs, "; ")
}

func dedupe(in []string) []string {
	out := []string{}
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
