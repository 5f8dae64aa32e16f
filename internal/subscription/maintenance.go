package subscription

import (
	"cmp"
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mimhq/mim/internal/maintenance"
)

// Maintenance phases announced to subscribers, each once per maintenance (scheduled) or per window (started,
// completed).
const (
	PhaseScheduled = "scheduled"
	PhaseStarted   = "started"
	PhaseCompleted = "completed"
)

// Maintenances lists the scheduled maintenance.
type Maintenances interface {
	List(ctx context.Context) ([]maintenance.Maintenance, error)
}

// MaintenancesAt lists, in a transaction, the maintenances that may have a window at an instant (at least those
// that do).
type MaintenancesAt interface {
	ListAt(ctx context.Context, tx pgx.Tx, t time.Time) ([]maintenance.Maintenance, error)
}

// MaintenanceNotices announces maintenance to subscribers: once when it is scheduled, and at the start and the end
// of each window; after a window it releases the component changes the window held (hold.go). Sweep runs as a leader periodic task and after each maintenance change; what was sent is recorded
// with the notifications, in one transaction, so every phase goes out exactly once however many processes sweep
// and however often (BC-11, BC-20).
type MaintenanceNotices struct {
	Service      *Service
	Maintenances Maintenances
	mu           sync.Mutex
	now          func() time.Time
	// Lookback bounds how late a start or an end is still announced (default 24 h): a process down for longer
	// does not announce last week's windows.
	Lookback time.Duration
}

// SetClock replaces the clock (tests: a fake one); nil means time.Now.
func (mn *MaintenanceNotices) SetClock(now func() time.Time) {
	mn.mu.Lock()
	defer mn.mu.Unlock()
	mn.now = now
}

func (mn *MaintenanceNotices) clock() time.Time {
	mn.mu.Lock()
	defer mn.mu.Unlock()
	if mn.now != nil {
		return mn.now()
	}
	return time.Now()
}

// scheduledKey stands for "the maintenance itself" in the notice record of its scheduled phase.
var scheduledKey = time.Unix(0, 0).UTC()

// Sweep announces every phase due at now that was not announced yet.
func (mn *MaintenanceNotices) Sweep(ctx context.Context) error {
	now := mn.clock()
	lookback := mn.Lookback
	if lookback <= 0 {
		lookback = 24 * time.Hour
	}
	ms, err := mn.Maintenances.List(ctx)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if w, ok := maintenance.Next(m, now); ok || maintenance.Phase(m, now) == maintenance.InProgress {
			if !ok {
				w, _ = maintenance.ActiveAt(m, now)
			}
			if err := mn.announce(ctx, m, scheduledKey, PhaseScheduled, w, now); err != nil {
				return err
			}
		}
		// Through now inclusive: a window starting at the very instant of the sweep is started now.
		for _, w := range maintenance.Occurrences(m, now.Add(-lookback), now.Add(time.Nanosecond)) {
			if !w.Start.After(now) && w.Start.After(now.Add(-lookback)) {
				if err := mn.announce(ctx, m, w.Start, PhaseStarted, w, now); err != nil {
					return err
				}
			}
			if !w.End.After(now) && w.End.After(now.Add(-lookback)) {
				if err := mn.announce(ctx, m, w.Start, PhaseCompleted, w, now); err != nil {
					return err
				}
			}
		}
	}
	// After "completed": what a window held back, reconciled (BC-11), however late the sweep runs.
	return mn.release(ctx, ms, now)
}

func (mn *MaintenanceNotices) announce(ctx context.Context, m maintenance.Maintenance, occurrence time.Time,
	phase string, w maintenance.Window, now time.Time) error {
	s := mn.Service
	return s.Store.InTx(ctx, func(tx pgx.Tx) error {
		first, err := s.Store.RecordMaintenanceNotice(ctx, tx, m.ID, occurrence, phase)
		if err != nil || !first {
			return err
		}
		status := map[string]string{PhaseScheduled: "scheduled", PhaseStarted: "in_progress",
			PhaseCompleted: "completed"}[phase]
		n := Notice{Topic: "maintenance." + phase, EventID: "maintenance:" + m.ID + ":" +
			occurrence.UTC().Format(time.RFC3339) + ":" + phase, IncidentID: m.ID, IncidentKey: m.ID, Title: m.Title,
			Status: status,
			Body:   m.Body + "\n\n" + windowText(s, w), Permalink: s.BaseURL + "/", At: now, Impact: "maintenance"}
		info, err := s.Store.Components(ctx, tx, m.Components)
		if err != nil {
			return err
		}
		for _, slug := range m.Components {
			n.Components = append(n.Components, ComponentNotice{Slug: slug, Name: cmp.Or(info[slug].Name, slug),
				From: info[slug].Status, To: info[slug].Status})
		}
		return s.Notify(ctx, tx, n)
	})
}

func windowText(s *Service, w maintenance.Window) string {
	return "Window: " + s.localTime(w.Start) + " – " + s.localTime(w.End)
}
