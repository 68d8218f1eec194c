package ui

// ChartsPanel is the grid of training curves.
type ChartsPanel struct {
	App    *App
	Charts *Charts
}

// PastNote explains the faded lines.
func (c *ChartsPanel) PastNote() string {
	return "Faded: " + plural(len(c.App.Past), "earlier run", "earlier runs") + ", labelled by what differed."
}

func (c *ChartsPanel) download(card ChartCard) {
	c.App.Host.Download(SVGFile(card.Key), "image/svg+xml", []byte(card.Chart.SVG()))
}
