package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/mimhq/mim/internal/classify"
	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/workflow"
)

// Service applies commands to incidents.
type Service struct {
	store Store
	now   func() time.Time
	// onPublic runs after a commit that changed what the public sees, in this process.
	onPublic func()
}

// NewService makes a Service. now may be nil (the wall clock); onPublic may be nil.
func NewService(store Store, now func() time.Time, onPublic func()) *Service {
	if now == nil {
		now = time.Now
	}
	if onPublic == nil {
		onPublic = func() {}
	}
	return &Service{store: store, now: now, onPublic: onPublic}
}

// clock returns the current time as stored: UTC, to the microsecond (PostgreSQL's precision), so that a state built
// in memory and one replayed from the database are equal.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// DeclareInput is what declaring an incident takes.
type DeclareInput struct {
	Title           string
	Description     string
	Components      []string
	Criteria        domain.Criteria
	DetectedAt      *time.Time
	ImpactStartedAt *time.Time
	Source          string
	DedupKey        string
}

// Declared is the result of a declaration: the incident, and whether the alert was folded into an open one.
type Declared struct {
	Record Record
	Folded bool
	// public is set when the declaration changed what customers see (a fold that promoted a published incident).
	public bool
}

// Declare classifies and opens an incident, or folds a repeated alert into the open incident with its dedup key.
func (s *Service) Declare(ctx context.Context, a domain.Actor, in DeclareInput) (Declared, error) {
	if err := denyViewer(a); err != nil {
		return Declared{}, err
	}
	in.DedupKey = strings.TrimSpace(in.DedupKey)
	var v domain.Validator
	v.Check(strings.TrimSpace(in.Title) != "", "title", "is required")
	v.Check(len(in.Title) <= 300, "title", "must be at most 300 characters")
	v.Check(len(in.DedupKey) <= 200, "dedup_key", "must be at most 200 characters")
	v.Check(len(in.Components) <= 100, "components", "at most 100 components")
	workflow.ValidateCriteria(&v, in.Criteria)
	if err := v.Err(); err != nil {
		return Declared{}, err
	}
	var out Declared
	// Two declarations of one new alert may race: the loser meets the winner's dedup key and folds into it.
	for attempt := 0; ; attempt++ {
		err := s.store.InTx(ctx, func(tx Tx) error {
			var err error
			out, err = s.declareTx(ctx, tx, a, in)
			return err
		})
		if errors.Is(err, ErrDedupConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return Declared{}, err
		}
		if out.public {
			s.onPublic()
		}
		return out, nil
	}
}

func (s *Service) declareTx(ctx context.Context, tx Tx, a domain.Actor, in DeclareInput) (Declared, error) {
	now := s.clock()
	comps, err := s.components(ctx, tx, in.Components)
	if err != nil {
		return Declared{}, err
	}
	policy, err := tx.Policy(ctx)
	if err != nil {
		return Declared{}, err
	}
	classification := classify.Evaluate(policy, classify.FactsOf(in.Criteria, comps))
	if in.DedupKey != "" {
		rec, err := tx.LockOpenByDedupKey(ctx, in.DedupKey)
		switch {
		case err == nil:
			return s.fold(ctx, tx, a, rec, in, classification, now)
		case !domain.IsKind(err, domain.ErrNotFound):
			return Declared{}, err
		}
	}
	cmd := workflow.Declare{
		ID: uuid.NewString(), Title: in.Title, Description: in.Description, Source: strings.TrimSpace(in.Source),
		DedupKey: in.DedupKey, Components: slugs(comps), Criteria: in.Criteria,
		Classification: classification,
		DetectedAt:     utcMicro(in.DetectedAt), ImpactStartedAt: utcMicro(in.ImpactStartedAt),
	}
	if in.DedupKey != "" {
		if prev, err := tx.LastClosedByDedupKey(ctx, in.DedupKey); err == nil {
			cmd.RecurrenceOf = prev.State.Key
		} else if !domain.IsKind(err, domain.ErrNotFound) {
			return Declared{}, err
		}
	}
	events, err := workflow.Handle(workflow.Incident{}, a, cmd, now)
	if err != nil {
		return Declared{}, err
	}
	n, err := tx.NextNumber(ctx)
	if err != nil {
		return Declared{}, err
	}
	events[0].Data.(*workflow.Declared).Key = fmt.Sprintf("INC-%d", n)
	state, err := workflow.ApplyAll(workflow.Incident{}, events)
	if err != nil {
		return Declared{}, domain.Internal(err)
	}
	rec := Record{State: state, Version: 1, CreatedAt: now, UpdatedAt: now}
	if err := tx.Insert(ctx, rec); err != nil {
		return Declared{}, err
	}
	if err := s.appendTimeline(ctx, tx, a, rec, events); err != nil {
		return Declared{}, err
	}
	if err := tx.React(ctx, Change{After: rec, Events: events, Actor: a}); err != nil {
		return Declared{}, err
	}
	return Declared{Record: rec}, nil
}

// fold adds a repeated alert to the open incident with its dedup key. When the repeat meets the major-incident
// criteria and the incident is standard, the new facts promote it: a critical repeat is never lost in a counter.
func (s *Service) fold(ctx context.Context, tx Tx, a domain.Actor, rec Record, in DeclareInput, cl domain.Classification, now time.Time) (Declared, error) {
	rec, _, err := s.execute(ctx, tx, a, rec, workflow.FoldAlert{}, now)
	if err != nil {
		return Declared{}, err
	}
	var public bool
	if cl.EffectiveKind() == domain.KindMajor && rec.State.Kind == domain.KindStandard && rec.State.IsOpen() {
		rec, public, err = s.execute(ctx, tx, a, rec, workflow.Reclassify{Criteria: in.Criteria, Classification: cl,
			Reason: "a repeated alert met the major-incident criteria: " + cl.Reason}, now)
		if err != nil {
			return Declared{}, err
		}
	}
	return Declared{Record: rec, Folded: true, public: public}, nil
}

// Execute applies one workflow command to the incident ref. When ifMatch is set and is not the current version, it
// fails with a precondition error and changes nothing.
func (s *Service) Execute(ctx context.Context, a domain.Actor, ref string, ifMatch *int, cmd workflow.Command) (Record, error) {
	return s.run(ctx, a, ref, ifMatch, func(ctx context.Context, tx Tx, cur workflow.Incident) (workflow.Command, error) {
		return cmd, nil
	})
}

// AssignRole gives a role to the user named by id or email, or (technical leads) to a resolver group.
func (s *Service) AssignRole(ctx context.Context, a domain.Actor, ref string, ifMatch *int, role domain.Role, user, group string) (Record, error) {
	return s.run(ctx, a, ref, ifMatch, func(ctx context.Context, tx Tx, cur workflow.Incident) (workflow.Command, error) {
		cmd := workflow.AssignRole{Role: role, Group: group}
		if strings.TrimSpace(user) != "" {
			u, err := tx.User(ctx, strings.TrimSpace(user))
			if domain.IsKind(err, domain.ErrNotFound) {
				return nil, domain.Invalid(domain.FieldError{Field: "user", Message: fmt.Sprintf("no user %q", user)})
			}
			if err != nil {
				return nil, err
			}
			if u.Role == domain.OrgViewer && role != domain.RoleExecutiveSponsor {
				return nil, domain.Invalid(domain.FieldError{Field: "user",
					Message: fmt.Sprintf("%s is a viewer and can only be an executive sponsor", u.Email)})
			}
			cmd.Person = domain.PersonOf(u)
		}
		return cmd, nil
	})
}

// RemoveRole releases a technical lead or executive sponsor, named by user id or email, or a group.
func (s *Service) RemoveRole(ctx context.Context, a domain.Actor, ref string, ifMatch *int, role domain.Role, who string) (Record, error) {
	return s.run(ctx, a, ref, ifMatch, func(ctx context.Context, tx Tx, cur workflow.Incident) (workflow.Command, error) {
		if u, err := tx.User(ctx, who); err == nil {
			return workflow.RemoveRole{Role: role, UserID: u.ID}, nil
		} else if !domain.IsKind(err, domain.ErrNotFound) {
			return nil, err
		}
		return workflow.RemoveRole{Role: role, Group: who}, nil
	})
}

// ReclassifyInput is a reclassification with new criteria, and optionally an admin's override of the verdict.
type ReclassifyInput struct {
	Criteria domain.Criteria
	Override *domain.Override
	Reason   string
}

// Reclassify evaluates new criteria under the current policy; a standard incident that becomes major is promoted.
func (s *Service) Reclassify(ctx context.Context, a domain.Actor, ref string, ifMatch *int, in ReclassifyInput) (Record, error) {
	return s.run(ctx, a, ref, ifMatch, func(ctx context.Context, tx Tx, cur workflow.Incident) (workflow.Command, error) {
		var v domain.Validator
		workflow.ValidateCriteria(&v, in.Criteria)
		if err := v.Err(); err != nil {
			return nil, err
		}
		comps, _, err := tx.Components(ctx, cur.Components)
		if err != nil {
			return nil, err
		}
		policy, err := tx.Policy(ctx)
		if err != nil {
			return nil, err
		}
		var o *domain.Override
		if in.Override != nil {
			c := *in.Override
			c.By = domain.Person{UserID: a.UserID, Name: a.Name, Email: a.Email}
			o = &c
		}
		return workflow.Reclassify{Criteria: in.Criteria, Classification: classify.Evaluate(policy, classify.FactsOf(in.Criteria, comps)),
			Override: o, Reason: in.Reason}, nil
	})
}

type buildFunc func(ctx context.Context, tx Tx, cur workflow.Incident) (workflow.Command, error)

func (s *Service) run(ctx context.Context, a domain.Actor, ref string, ifMatch *int, build buildFunc) (Record, error) {
	if err := denyViewer(a); err != nil {
		return Record{}, err
	}
	var out Record
	var public bool
	err := s.store.InTx(ctx, func(tx Tx) error {
		rec, err := tx.Lock(ctx, ref)
		if err != nil {
			return err
		}
		if ifMatch != nil && *ifMatch != rec.Version {
			return &domain.Error{Kind: domain.ErrPrecondition, Code: "version_mismatch",
				Message: fmt.Sprintf("%s changed since you loaded it: you have version %d, it is now at version %d; reload and try again",
					rec.State.Key, *ifMatch, rec.Version)}
		}
		cmd, err := build(ctx, tx, rec.State)
		if err != nil {
			return err
		}
		out, public, err = s.execute(ctx, tx, a, rec, fillIDs(cmd), s.clock())
		return err
	})
	if err != nil {
		return Record{}, err
	}
	if public {
		s.onPublic()
	}
	return out, nil
}

// execute decides and applies a command inside tx, saves the incident and appends the timeline. public reports
// whether the events changed what customers see, so the caller refreshes this process's status page after commit.
func (s *Service) execute(ctx context.Context, tx Tx, a domain.Actor, rec Record, cmd workflow.Command, now time.Time) (next Record, public bool, err error) {
	events, err := workflow.Handle(rec.State, a, cmd, now)
	if err != nil {
		return Record{}, false, err
	}
	state, err := workflow.ApplyAll(rec.State, events)
	if err != nil {
		return Record{}, false, domain.Internal(err)
	}
	next = Record{State: state, Version: rec.Version + 1, CreatedAt: rec.CreatedAt, UpdatedAt: now}
	if err := tx.Save(ctx, next); err != nil {
		return Record{}, false, err
	}
	if err := s.appendTimeline(ctx, tx, a, next, events); err != nil {
		return Record{}, false, err
	}
	change := Change{Before: rec.State, After: next, Events: events, Actor: a}
	if public = publicChange(events); public {
		change.Public = true
		if change.Components, err = tx.RecomputeComponents(ctx, state.Components, now); err != nil {
			return Record{}, false, err
		}
		if err := tx.NotifyPublic(ctx); err != nil {
			return Record{}, false, err
		}
	}
	if err := tx.React(ctx, change); err != nil {
		return Record{}, false, err
	}
	return next, public, nil
}

// publicChange reports whether the events change what customers see: a publication, or a change of kind or stage
// that ends the incident's contribution to component status.
func publicChange(events []workflow.Event) bool {
	for _, e := range events {
		switch e.Type {
		case workflow.EventUpdatePublished, workflow.EventStageChanged, workflow.EventStatusChanged,
			workflow.EventVisibilityChanged, workflow.EventClassified:
			return true
		}
	}
	return false
}

func (s *Service) appendTimeline(ctx context.Context, tx Tx, a domain.Actor, rec Record, events []workflow.Event) error {
	entries := make([]TimelineEntry, len(events))
	for i, e := range events {
		data, err := json.Marshal(e.Data)
		if err != nil {
			return domain.Internal(err)
		}
		ch := a.Channel
		if ch == "" {
			ch = domain.ChannelAPI
		}
		entries[i] = TimelineEntry{Version: rec.Version, Type: e.Type, At: e.At, Actor: a, Channel: ch, Data: data}
	}
	return tx.Append(ctx, rec.State.ID, entries)
}

// Get reads an incident by id or key.
func (s *Service) Get(ctx context.Context, ref string) (Record, error) { return s.store.Get(ctx, ref) }

// List reads a page of incidents.
func (s *Service) List(ctx context.Context, f ListFilter) ([]Record, string, error) {
	return s.store.List(ctx, f)
}

// Timeline reads an incident's timeline.
func (s *Service) Timeline(ctx context.Context, ref string) ([]TimelineEntry, error) {
	rec, err := s.store.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	return s.store.Timeline(ctx, rec.State.ID)
}

// Replay rebuilds an incident's state from its stored timeline: the audit log and the state must agree.
func Replay(entries []TimelineEntry) (workflow.Incident, error) {
	events := make([]workflow.Event, len(entries))
	for i, e := range entries {
		ev, err := workflow.DecodeEvent(e.Type, e.At, e.Data)
		if err != nil {
			return workflow.Incident{}, err
		}
		events[i] = ev
	}
	return workflow.Replay(events)
}

func (s *Service) components(ctx context.Context, tx Tx, refs []string) ([]domain.Component, error) {
	var want []string
	for _, r := range refs {
		if r = strings.TrimSpace(r); r != "" && !slices.Contains(want, r) {
			want = append(want, r)
		}
	}
	found, missing, err := tx.Components(ctx, want)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		all, err := tx.AllComponentSlugs(ctx)
		if err != nil {
			return nil, err
		}
		return nil, domain.Invalid(domain.FieldError{Field: "components",
			Message: fmt.Sprintf("unknown component %s; known: %s", strings.Join(missing, ", "), strings.Join(all, ", ")),
			Allowed: all})
	}
	return found, nil
}

func slugs(comps []domain.Component) []string {
	out := make([]string, len(comps))
	for i, c := range comps {
		out[i] = c.Slug
	}
	return out
}

// fillIDs gives new entities their ids: the workflow is pure and takes them from the caller.
func fillIDs(cmd workflow.Command) workflow.Command {
	switch c := cmd.(type) {
	case workflow.LogAction:
		if c.ID == "" {
			c.ID = uuid.NewString()
		}
		return c
	case workflow.DraftUpdate:
		if c.ID == "" {
			c.ID = uuid.NewString()
		}
		return c
	case workflow.RecordRestoration:
		if c.ID == "" {
			c.ID = uuid.NewString()
		}
		return c
	case workflow.LinkTicket:
		if c.ID == "" {
			c.ID = uuid.NewString()
		}
		return c
	}
	return cmd
}

func utcMicro(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

func denyViewer(a domain.Actor) error {
	if a.OrgRole != domain.OrgAdmin && a.OrgRole != domain.OrgResponder {
		return &domain.Error{Kind: domain.ErrForbidden, Code: "forbidden", Message: "viewers cannot change incidents"}
	}
	return nil
}
