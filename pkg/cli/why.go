package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/minik8s/minik8s/pkg/scheduler"
)

// newWhyCommand answers "why is my pod not running": for a pod waiting to be
// scheduled, every node with the plugin that turned it away; for a pod that does
// not start, become ready or keeps restarting, its containers' last states, the
// failing probe, recent warnings and the end of the previous container's log.
func newWhyCommand() *cobra.Command {
	var kubeconfig, namespace string
	cmd := &cobra.Command{
		Use:   "why pod/NAME",
		Short: "Explain why a pod is not running or not ready",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, ok := strings.CutPrefix(args[0], "pod/")
			if !ok {
				if name, ok = strings.CutPrefix(args[0], "pods/"); !ok {
					return fmt.Errorf("%q: name a pod as pod/NAME", args[0])
				}
			}
			cc, err := clientConfig(kubeconfig)
			if err != nil {
				return err
			}
			if namespace == "" {
				ns, _, err := cc.Namespace()
				if err != nil {
					return err
				}
				namespace = ns
			}
			rc, err := cc.ClientConfig()
			if err != nil {
				return fmt.Errorf("load kubeconfig: %w", err)
			}
			client, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			return why(ctx, client, namespace, name, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "namespace of the pod (default: the kubeconfig's)")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (default: $KUBECONFIG, else the local server's)")
	return cmd
}

func why(ctx context.Context, client kubernetes.Interface, ns, name string, out io.Writer) error {
	pod, err := client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("pods %q not found in namespace %q", name, ns)
	}
	if err != nil {
		return err
	}
	evs, _ := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.AndSelectors(
		fields.OneTermEqualSelector("involvedObject.name", name), fields.OneTermEqualSelector("involvedObject.uid", string(pod.UID))).String()})
	if pod.Spec.NodeName == "" {
		if pod.DeletionTimestamp != nil {
			fmt.Fprintf(out, "pod/%s is being deleted and will not be scheduled.\n", name)
			return nil
		}
		ex, err := scheduler.Explain(ctx, client, pod)
		if err != nil {
			return err
		}
		writeSchedulingExplanation(out, pod, ex)
		writeEvents(out, evs, true)
		return nil
	}
	var prev map[string]string
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.RestartCount > 0 && cs.LastTerminationState.Terminated != nil {
			if prev == nil {
				prev = map[string]string{}
			}
			prev[cs.Name] = previousLog(ctx, client, pod, cs.Name)
		}
	}
	writeRuntimeExplanation(out, pod, prev)
	writeEvents(out, evs, false)
	return nil
}

// writeSchedulingExplanation prints a pending pod's scheduling picture.
func writeSchedulingExplanation(out io.Writer, pod *corev1.Pod, ex *scheduler.Explanation) {
	fmt.Fprintf(out, "pod/%s is Pending: it is not scheduled to a node.\n", pod.Name)
	if !ex.Served {
		served := "none is running"
		if len(ex.ServedNames) > 0 {
			served = "running schedulers serve " + strings.Join(ex.ServedNames, ", ")
		}
		fmt.Fprintf(out, "No scheduler serves schedulerName %q (%s): the pod waits untouched until one does.\n", ex.SchedulerName, served)
		return
	}
	if len(ex.Gates) > 0 {
		fmt.Fprintf(out, "It has scheduling gates %v: the scheduler does not try it until they are all removed.\n", ex.Gates)
		return
	}
	if c := scheduledCondition(pod); c != nil && c.Status == corev1.ConditionFalse && c.Message != "" {
		fmt.Fprintf(out, "Last attempt (%s): %s\n", c.Reason, c.Message)
	}
	if ex.PreFilter != nil {
		fmt.Fprintf(out, "No node can take it: %s rejected it before any node was tried: %s\n", ex.PreFilter.Plugin, strings.Join(ex.PreFilter.Reasons, ", "))
		return
	}
	if len(ex.Nodes) == 0 {
		fmt.Fprintln(out, "The cluster has no nodes.")
		return
	}
	fits := 0
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "NODE\tVERDICT\tPLUGIN\tWHY\n")
	for _, v := range ex.Nodes {
		if v.Fits {
			fits++
			var parts []string
			for _, s := range v.Scores {
				parts = append(parts, fmt.Sprintf("%s=%d", s.Name, s.Score))
			}
			fmt.Fprintf(tw, "%s\tfits\t\tscore %d %s\n", v.Node, v.Score, strings.Join(parts, " "))
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Node, v.Code, v.Plugin, strings.Join(v.Reasons, ", "))
	}
	tw.Flush()
	if fits > 0 {
		fmt.Fprintf(out, "%d node(s) fit now: the scheduler will place it at its next attempt.\n", fits)
	} else if ex.Message != "" {
		fmt.Fprintf(out, "The scheduler says: %s\n", ex.Message)
	}
}

func scheduledCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodScheduled {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// writeRuntimeExplanation prints what keeps a scheduled pod from running or
// being ready: each container's state, last termination, probes and restarts.
func writeRuntimeExplanation(out io.Writer, pod *corev1.Pod, prevLogs map[string]string) {
	ready := false
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			ready = true
		}
	}
	fmt.Fprintf(out, "pod/%s is %s on node %s", pod.Name, pod.Status.Phase, pod.Spec.NodeName)
	if ready {
		fmt.Fprint(out, " and Ready")
	} else {
		fmt.Fprint(out, ", not Ready")
	}
	fmt.Fprintln(out, ".")
	if pod.Status.Reason != "" || pod.Status.Message != "" {
		fmt.Fprintf(out, "Pod: %s %s\n", pod.Status.Reason, pod.Status.Message)
	}
	specs := map[string]corev1.Container{}
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		specs[c.Name] = c
	}
	statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		fmt.Fprintf(out, "Container %s: %s", cs.Name, containerState(cs.State))
		if !cs.Ready {
			fmt.Fprint(out, ", not ready")
		}
		if cs.RestartCount > 0 {
			fmt.Fprintf(out, ", restarted %d times", cs.RestartCount)
		}
		fmt.Fprintln(out)
		if t := cs.LastTerminationState.Terminated; t != nil {
			fmt.Fprintf(out, "  last termination: %s, exit code %d", t.Reason, t.ExitCode)
			if t.Signal != 0 {
				fmt.Fprintf(out, ", signal %d", t.Signal)
			}
			if !t.FinishedAt.IsZero() {
				fmt.Fprintf(out, ", at %s", t.FinishedAt.UTC().Format(time.RFC3339))
			}
			fmt.Fprintln(out)
			if t.Message != "" {
				fmt.Fprintf(out, "  message: %s\n", strings.TrimSpace(t.Message))
			}
		}
		spec := specs[cs.Name]
		if !cs.Ready && spec.ReadinessProbe != nil {
			fmt.Fprintf(out, "  readiness probe: %s\n", describeProbe(spec.ReadinessProbe))
		}
		if cs.RestartCount > 0 && spec.LivenessProbe != nil {
			fmt.Fprintf(out, "  liveness probe: %s\n", describeProbe(spec.LivenessProbe))
		}
		if log := prevLogs[cs.Name]; log != "" {
			fmt.Fprintf(out, "  end of the previous instance's log:\n")
			for _, l := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
				fmt.Fprintf(out, "    %s\n", l)
			}
		}
	}
}

func containerState(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running since " + s.Running.StartedAt.UTC().Format(time.RFC3339)
	case s.Waiting != nil:
		if s.Waiting.Message != "" {
			return fmt.Sprintf("waiting (%s: %s)", s.Waiting.Reason, s.Waiting.Message)
		}
		return fmt.Sprintf("waiting (%s)", s.Waiting.Reason)
	case s.Terminated != nil:
		return fmt.Sprintf("terminated (%s, exit code %d)", s.Terminated.Reason, s.Terminated.ExitCode)
	}
	return "not created yet"
}

func describeProbe(p *corev1.Probe) string {
	var what string
	switch {
	case p.HTTPGet != nil:
		what = fmt.Sprintf("http-get %s:%s%s", p.HTTPGet.Host, p.HTTPGet.Port.String(), p.HTTPGet.Path)
	case p.TCPSocket != nil:
		what = "tcp-socket :" + p.TCPSocket.Port.String()
	case p.Exec != nil:
		what = "exec " + strings.Join(p.Exec.Command, " ")
	case p.GRPC != nil:
		what = fmt.Sprintf("grpc :%d", p.GRPC.Port)
	}
	return fmt.Sprintf("%s every %ds, timeout %ds, failure threshold %d", what, p.PeriodSeconds,
		p.TimeoutSeconds, p.FailureThreshold)
}

// writeEvents prints the pod's recent events, warnings first for a running pod.
func writeEvents(out io.Writer, evs *corev1.EventList, scheduling bool) {
	if evs == nil || len(evs.Items) == 0 {
		return
	}
	items := evs.Items
	sort.Slice(items, func(i, j int) bool { return eventTime(items[i]).Before(eventTime(items[j])) })
	var show []corev1.Event
	for _, e := range items {
		if scheduling && e.Reason != "FailedScheduling" && e.Reason != "Scheduled" {
			continue
		}
		if !scheduling && e.Type != corev1.EventTypeWarning {
			continue
		}
		show = append(show, e)
	}
	if len(show) > 10 {
		show = show[len(show)-10:]
	}
	if len(show) == 0 {
		return
	}
	fmt.Fprintln(out, "Recent events:")
	tw := tabwriter.NewWriter(out, 0, 8, 2, ' ', 0)
	for _, e := range show {
		count := ""
		if e.Count > 1 {
			count = fmt.Sprintf(" (x%d)", e.Count)
		}
		fmt.Fprintf(tw, "  %s\t%s%s\t%s\n", e.Type, e.Reason, count, e.Message)
	}
	tw.Flush()
}

func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}

// previousLog is the last lines of a container's previous instance.
func previousLog(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, container string) string {
	raw, err := client.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container, Previous: true,
		TailLines: ptr.To[int64](10)}).DoRaw(ctx)
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(raw))
}
