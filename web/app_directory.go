package web

// DirectoryPage is one admin page of who hears about incidents internally — stakeholder lists, customers, resolver
// groups or ticket systems: the entries, a form to add one, and delete.
type DirectoryPage struct {
	// Base is the page's address; forms post to it and to Base/{id}/delete.
	Base, Heading, Intro, Singular string
	Columns                        []string
	Rows                           []DirectoryRow
	Fields                         []DirectoryField
	// Created names the entry just added; Secret is its signing secret, shown this once.
	Created, Secret string
}

// DirectoryRow is one entry: its id and the cells under Columns.
type DirectoryRow struct {
	ID    string
	Cells []string
}

// DirectoryField is one input of the add form, with its value kept when the form is refused.
type DirectoryField struct {
	Name, Label, Hint string
	// Type is text, email, url, textarea or checks (a checkbox per Options, Checked ticked).
	Type     string
	Value    string
	Options  []string
	Checked  []string
	Required bool
	Error    string
}
