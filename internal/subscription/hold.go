package subscription

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/domain"
	"github.com/mimhq/mim/internal/incident"
	"github.com/mimhq/mim/internal/maintenance"
)

// Hold is a component whose status changes were held back from subscribers by a maintenance window (BC-11): the
// status they were last told before the window, and the status it has now.
type Hold struct {
	Slug   string
	Name   string
	Told   domain.ComponentStatus
	Now    domain.ComponentStatus
	HeldAt time.Time
}

// Holding component notices around maintenance (BC-11)
//
// While a maintenance window covers a component, nothing about the component's status goes to subscribers apart
// from the maintenance notices themselves:
//
//   - a component.update for it is not enqueued; instead the component is held, with the status subscribers were
//     last told (the change's From, kept from the first held change of the window);
//   - an incident.update published meanwhile still goes out, since it is the customer's own words, but the
//     components under maintenance are left out of its component list, so it announces no change of theirs;
//     it still reaches the subscribers of those components;
//   - when no window covers a held component any more, the maintenance sweep (the one that sends "completed")
//     releases the hold: if the component's status now differs from the one last told, it sends exactly one
//     component.update from the told status to the current one; if not (still down, or down and back again), it
//     sends nothing. The hold is a row in the database, so a restart in the window loses nothing; releasing
//     deletes the row, so of many processes sweeping at once exactly one sends the notice.

// coveredAt returns the components inside an active window of any maintenance at t.
func coveredAt(ms []maintenance.Maintenance, t time.Time) map[string]bool {
	out := map[string]bool{}
	for _, m := range ms {
		if _, ok := maintenance.ActiveAt(m, t); ok {
			for _, slug := range m.Components {
				out[slug] = true
			}
		}
	}
	return out
}

// covered returns the components under maintenance at t, read in tx.
func (s *Service) covered(ctx context.Context, tx pgx.Tx, t time.Time) (map[string]bool, error) {
	if s.Maintenances == nil {
		return map[string]bool{}, nil
	}
	ms, err := s.Maintenances.ListAt(ctx, tx, t)
	if err != nil {
		return nil, fmt.Errorf("maintenances: %w", err)
	}
	return coveredAt(ms, t), nil
}

// hold records, in tx, every change of c to a component under maintenance.
func (s *Service) hold(ctx context.Context, tx pgx.Tx, c incident.Change, covered map[string]bool) error {
	for _, cc := range c.Components {
		if !covered[cc.Slug] {
			continue
		}
		if err := s.Store.HoldComponent(ctx, tx, cc.Slug, cc.From, c.After.UpdatedAt); err != nil {
			return err
		}
	}
	return nil
}

// withoutCovered leaves the components under maintenance out of an incident notice's component list, keeping the
// audience it had.
func withoutCovered(n Notice, covered map[string]bool) Notice {
	if len(covered) == 0 {
		return n
	}
	n.audience = n.slugs()
	n.Components = slices.DeleteFunc(slices.Clone(n.Components), func(c ComponentNotice) bool {
		return covered[c.Slug]
	})
	worst := domain.ComponentOperational
	for _, c := range n.Components {
		worst = domain.Worse(worst, c.To)
	}
	n.Impact = impactOf(worst)
	return n
}

// release sends, in one transaction, one component.update for each held component no window covers at now whose
// status differs from the one last told, and forgets the holds.
func (mn *MaintenanceNotices) release(ctx context.Context, ms []maintenance.Maintenance, now time.Time) error {
	s := mn.Service
	var covered []string
	for slug := range coveredAt(ms, now) {
		covered = append(covered, slug)
	}
	return s.Store.InTx(ctx, func(tx pgx.Tx) error {
		holds, err := s.Store.ReleaseHolds(ctx, tx, covered)
		if err != nil {
			return err
		}
		for _, h := range holds {
			if h.Now == h.Told {
				continue // nothing changed for subscribers: no fresh "down" after the window (BC-11 a)
			}
			n := Notice{Topic: "component.update",
				EventID: fmt.Sprintf("component:%s:held:%d", h.Slug, h.HeldAt.UnixMicro()),
				Title:   h.Name, Status: string(h.Now), Permalink: s.BaseURL + "/", At: now, Impact: impactOf(h.Now),
				Component: &ComponentNotice{Slug: h.Slug, Name: h.Name, From: h.Told, To: h.Now}}
			if err := s.Notify(ctx, tx, n); err != nil {
				return err
			}
		}
		return nil
	})
}
