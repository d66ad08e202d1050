package annotate

import (
	"os"
	"testing"

	"github.com/dlcv-go/dlcv/nn"
	"github.com/dlcv-go/dlcv/tensor"
)

// TestProfileCenterNet logs where CenterNet's time goes (the engine's
// per-op profile), for docs/objects.md. Run with -run ProfileCenterNet -v.
func TestProfileCenterNet(t *testing.T) {
	if os.Getenv("DLCV_PROFILE") == "" {
		t.Skip("set DLCV_PROFILE=1 to profile CenterNet")
	}
	d := sharedObjects(t)
	x := resized(sharedPhoto(t, "grace_hopper"), centernetSize, centernetSize)
	s := d.g.m.Graph.NewSession()
	want := []*nn.Value{d.g.m.Value("tower_0/detections")}
	for range 2 {
		if _, err := s.RunValues(false, []*tensor.Tensor{x}, want); err != nil {
			t.Fatal(err)
		}
	}
	var p nn.Profile
	s.SetProfile(&p)
	for range 3 {
		if _, err := s.RunValues(false, []*tensor.Tensor{x}, want); err != nil {
			t.Fatal(err)
		}
	}
	p.Write(os.Stdout, 15)
}
