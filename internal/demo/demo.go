// Package demo seeds an empty database with the components of a cloud security service and a cast of users, so that
// `make run` shows something real and `make drill` has people to act as.
package demo

import (
	"context"
	"fmt"

	"github.com/mimhq/mim/internal/account"
	"github.com/mimhq/mim/internal/domain"
)

// Components creates and lists components.
type Components interface {
	Create(ctx context.Context, c domain.Component) (domain.Component, error)
	List(ctx context.Context) ([]domain.Component, error)
}

// Regions of the demo service, with the group name customers see.
var Regions = []struct{ Slug, Name string }{
	{"us", "North America"},
	{"eu", "Europe"},
	{"apac", "Asia Pacific"},
}

// Services offered in each region.
var Services = []struct {
	Slug, Name, Description string
	Core, ControlPlane      bool
}{
	{"swg", "Secure Web Gateway", "Inspects and filters web traffic against security policies.", true, false},
	{"casb", "Cloud Access Security Broker", "Visibility and control over cloud application use.", true, false},
	{"dlp", "Data Loss Prevention", "Detects and blocks sensitive data leaving the organisation.", true, false},
	{"private-access", "Private Access", "Zero-trust access to private applications.", true, false},
	{"control-plane", "Control Plane", "Policy distribution and configuration for the region's enforcement points.", true, true},
}

// Admin is the demo administrator's address.
const Admin = "admin@example.com"

// Password is every demo user's web UI password: a demo, not a deployment (`mim user create --password-stdin`
// makes real accounts).
const Password = "mim-demo-password"

// Users of the demo, by address.
var Users = []account.NewUser{
	{Email: Admin, Name: "Ada Admin", Role: domain.OrgAdmin, Password: Password},
	{Email: "irene@example.com", Name: "Irene Commander", Role: domain.OrgResponder, Password: Password},
	{Email: "carl@example.com", Name: "Carl Comms", Role: domain.OrgResponder, Password: Password},
	{Email: "tara@example.com", Name: "Tara Tech", Role: domain.OrgResponder, Password: Password},
	{Email: "sam@example.com", Name: "Sam Sponsor", Role: domain.OrgResponder, Password: Password},
	{Email: "vic@example.com", Name: "Vic Viewer", Role: domain.OrgViewer, Password: Password},
}

// Seed fills an empty database; a database that already has components is left alone, so it runs at every start.
func Seed(ctx context.Context, comps Components, accounts *account.Service) (bool, error) {
	existing, err := comps.List(ctx)
	if err != nil {
		return false, err
	}
	if len(existing) > 0 {
		return false, nil
	}
	pos := 0
	for _, r := range Regions {
		for _, s := range Services {
			pos++
			c := domain.Component{Slug: s.Slug + "-" + r.Slug, Name: s.Name + " (" + r.Name + ")", Group: r.Name,
				Description: s.Description, Core: s.Core, ControlPlane: s.ControlPlane, Position: pos}
			if _, err := comps.Create(ctx, c); err != nil {
				return false, fmt.Errorf("seed component %s: %w", c.Slug, err)
			}
		}
	}
	for _, u := range Users {
		if _, err := accounts.User(ctx, u.Email); err == nil {
			continue
		}
		if _, err := accounts.CreateUser(ctx, u); err != nil {
			return false, fmt.Errorf("seed user %s: %w", u.Email, err)
		}
	}
	return true, nil
}
