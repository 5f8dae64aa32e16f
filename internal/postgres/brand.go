package postgres

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mimhq/mim/internal/domain"
)

// BrandStore keeps the public page's brand an admin set: one row, absent until the first save.
type BrandStore struct {
	db *DB
	// OnChange, when set, is called after each committed change, so this process's status page shows it at once,
	// before the notification that every process hears arrives.
	OnChange func()
}

// changed calls OnChange after a commit.
func (s *BrandStore) changed(err error) {
	if err == nil && s.OnChange != nil {
		s.OnChange()
	}
}

// NewBrandStore returns the brand store on db.
func NewBrandStore(db *DB) *BrandStore { return &BrandStore{db: db} }

// Brand returns the stored brand, or a domain.ErrNotFound error when none is stored (the configuration's applies).
func (s *BrandStore) Brand(ctx context.Context) (domain.Brand, error) {
	return getBrand(ctx, s.db.Pool)
}

func getBrand(ctx context.Context, q querier) (domain.Brand, error) {
	var b domain.Brand
	var links []byte
	var logoType *string
	err := q.QueryRow(ctx, `SELECT name, accent, links, logo, logo_type, version, updated_at, updated_by
		FROM branding WHERE id`).Scan(&b.Name, &b.Accent, &links, &b.Logo, &logoType, &b.Version, &b.UpdatedAt, &b.UpdatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return b, domain.Errorf(domain.ErrNotFound, "not_found", "no brand is stored")
	}
	if err != nil {
		return b, mapError(err)
	}
	if logoType != nil {
		b.LogoType = *logoType
	}
	var ls []brandLinkJSON
	if err := json.Unmarshal(links, &ls); err != nil {
		return b, domain.Internal(err)
	}
	for _, l := range ls {
		b.Links = append(b.Links, domain.BrandLink(l))
	}
	return b, nil
}

type brandLinkJSON struct {
	Label string `json:"label"`
	URL   string `json:"url"`
}

// SaveBrand stores b, made from the stored version version (0: from none stored), and announces the public change
// on every process. keepLogo keeps the stored logo whatever b.Logo says. A version that is no longer the stored one
// is a domain.ErrConflict error ("changed since you loaded it"): nothing is written. It returns the stored brand.
func (s *BrandStore) SaveBrand(ctx context.Context, b domain.Brand, version int, keepLogo bool) (domain.Brand, error) {
	if err := domain.ValidateBrand(&b); err != nil {
		return b, err
	}
	ls := make([]brandLinkJSON, 0, len(b.Links))
	for _, l := range b.Links {
		ls = append(ls, brandLinkJSON(l))
	}
	links, err := json.Marshal(ls)
	if err != nil {
		return b, domain.Internal(err)
	}
	var logo []byte
	var logoType *string
	if b.Logo != nil {
		logo, logoType = b.Logo, &b.LogoType
	}
	var out domain.Brand
	err = s.db.inTx(ctx, func(tx pgx.Tx) error {
		// The row is locked (or, absent, the insert conflicts) so two saves from the same version cannot both win.
		var tag pgconn.CommandTag
		var err error
		if version == 0 {
			tag, err = tx.Exec(ctx, `
				INSERT INTO branding (id, name, accent, links, logo, logo_type, version, updated_by)
				VALUES (true, $1, $2, $3, $4, $5, nextval('branding_version_seq'), $6)
				ON CONFLICT (id) DO NOTHING`, b.Name, b.Accent, links, logo, logoType, b.UpdatedBy)
		} else {
			tag, err = tx.Exec(ctx, `
				UPDATE branding SET name = $1, accent = $2, links = $3,
					logo = CASE WHEN $7 THEN logo ELSE $4 END, logo_type = CASE WHEN $7 THEN logo_type ELSE $5 END,
					version = nextval('branding_version_seq'), updated_at = now(), updated_by = $8
				WHERE id AND version = $6`, b.Name, b.Accent, links, logo, logoType, version, keepLogo, b.UpdatedBy)
		}
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return brandConflict()
		}
		if out, err = getBrand(ctx, tx); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublicChannel)
		return mapError(err)
	})
	s.changed(err)
	return out, err
}

// ResetBrand deletes the stored brand of version version, so the configuration's applies again, and announces the
// public change. A version that is not the stored one is a domain.ErrConflict error.
func (s *BrandStore) ResetBrand(ctx context.Context, version int) error {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM branding WHERE id AND version = $1`, version)
		if err != nil {
			return mapError(err)
		}
		if tag.RowsAffected() == 0 {
			return brandConflict()
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, PublicChannel)
		return mapError(err)
	})
	s.changed(err)
	return err
}

func brandConflict() error {
	return domain.Errorf(domain.ErrConflict, "edit_conflict",
		"the brand was changed since you loaded it: the form now shows the stored brand; make your change again")
}

// NameIn returns the stored page name, read in tx; "" when no brand is stored.
func (s *BrandStore) NameIn(ctx context.Context, tx pgx.Tx) (string, error) {
	var name string
	err := tx.QueryRow(ctx, `SELECT name FROM branding WHERE id`).Scan(&name)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return name, mapError(err)
}
