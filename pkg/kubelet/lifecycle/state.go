package lifecycle

import (
	"sort"
	"time"
)

// ContainerPhase is a runtime container's state.
type ContainerPhase int

// The runtime's container states.
const (
	ContainerCreated ContainerPhase = iota
	ContainerRunning
	ContainerExited
	ContainerUnknown
)

// Container is one instance of a container as the runtime reports it.
type Container struct {
	ID         string
	Name       string
	Attempt    uint32
	Phase      ContainerPhase
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int32
	// Reason is the runtime's reason for an exit ("OOMKilled", "Error", "Completed").
	Reason  string
	Message string
	Image   string
	// ImageRef is the image's digest reference.
	ImageRef string
	// Hash is the spec hash recorded when the container was created.
	Hash string
}

// Sandbox is one pod sandbox as the runtime reports it.
type Sandbox struct {
	ID        string
	Attempt   uint32
	Ready     bool
	IPs       []string
	CreatedAt time.Time
}

// Pod is everything the runtime has of one pod.
type Pod struct {
	Sandboxes  []Sandbox
	Containers []Container
}

// Sort orders sandboxes and containers newest first, which the other methods assume.
func (p *Pod) Sort() {
	sort.SliceStable(p.Sandboxes, func(i, j int) bool {
		if p.Sandboxes[i].Attempt != p.Sandboxes[j].Attempt {
			return p.Sandboxes[i].Attempt > p.Sandboxes[j].Attempt
		}
		return p.Sandboxes[i].CreatedAt.After(p.Sandboxes[j].CreatedAt)
	})
	sort.SliceStable(p.Containers, func(i, j int) bool {
		if p.Containers[i].Attempt != p.Containers[j].Attempt {
			return p.Containers[i].Attempt > p.Containers[j].Attempt
		}
		return p.Containers[i].CreatedAt.After(p.Containers[j].CreatedAt)
	})
}

// Sandbox returns the newest sandbox, or nil.
func (p *Pod) Sandbox() *Sandbox {
	if len(p.Sandboxes) == 0 {
		return nil
	}
	return &p.Sandboxes[0]
}

// Latest returns the newest instance of a container, or nil.
func (p *Pod) Latest(name string) *Container {
	for i := range p.Containers {
		if p.Containers[i].Name == name {
			return &p.Containers[i]
		}
	}
	return nil
}

// Previous returns the instance before the newest one, or nil.
func (p *Pod) Previous(name string) *Container {
	seen := false
	for i := range p.Containers {
		if p.Containers[i].Name != name {
			continue
		}
		if seen {
			return &p.Containers[i]
		}
		seen = true
	}
	return nil
}

// Running returns every running container instance.
func (p *Pod) Running() []Container {
	var out []Container
	for _, c := range p.Containers {
		if c.Phase == ContainerRunning || c.Phase == ContainerCreated {
			out = append(out, c)
		}
	}
	return out
}
