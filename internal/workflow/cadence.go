package workflow

import (
	"time"

	"github.com/mimhq/mim/internal/domain"
)

// Cadence is how often a major incident must publish an update (brief §4): by default every 30 minutes while its
// severity is critical, every 60 otherwise.
type Cadence struct {
	Critical time.Duration
	Other    time.Duration
}

// DefaultCadence is the brief's cadence.
func DefaultCadence() Cadence { return Cadence{Critical: 30 * time.Minute, Other: 60 * time.Minute} }

// OrDefault is c, or DefaultCadence when c is the zero value (nothing configured).
func (c Cadence) OrDefault() Cadence {
	if c == (Cadence{}) {
		return DefaultCadence()
	}
	return c
}

// Interval is the cadence for a severity.
func (c Cadence) Interval(s domain.Severity) time.Duration {
	if s == domain.SeverityCritical {
		return c.Critical
	}
	return c.Other
}

// UpdateClock is where an incident stands against its cadence.
type UpdateClock struct {
	// Running is false when no update is expected: a standard, concluded or resolved incident, or a major one before
	// its first update and before Status Updates.
	Running  bool
	Interval time.Duration
	// Since is the last publication, or when the clock started (entering Status Updates with nothing published).
	Since time.Time
	DueAt time.Time
}

// Overdue reports whether an update is due and none was published by now.
func (u UpdateClock) Overdue(now time.Time) bool { return u.Running && now.After(u.DueAt) }

// UpdateClock says when the incident's next update is due. The clock runs for an open major incident from its first
// published update, or from entering Status Updates (stage 4 enforces the cadence) when nothing was published yet; it
// stops once the latest public word is "resolved". A fix that failed supersedes that word, and the clock runs again
// from the move back.
func (s Incident) UpdateClock(c Cadence) UpdateClock {
	if s.Kind != domain.KindMajor || !s.IsOpen() {
		return UpdateClock{}
	}
	interval := c.Interval(s.Criteria.Severity)
	var since time.Time
	if u := s.LatestPublished(); u != nil {
		if u.Status == domain.UpdateResolved && !u.Superseded {
			return UpdateClock{}
		}
		since = *u.PublishedAt
		if u.Superseded && s.StageEnteredAt.After(since) {
			since = s.StageEnteredAt
		}
	} else if s.Stage.Index() >= domain.StageStatusUpdates.Index() {
		since = s.StageEnteredAt
	} else {
		return UpdateClock{}
	}
	if since.IsZero() || interval <= 0 {
		return UpdateClock{}
	}
	return UpdateClock{Running: true, Interval: interval, Since: since, DueAt: since.Add(interval)}
}
