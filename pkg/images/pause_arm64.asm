// pause for arm64 (aarch64) Linux: the first process of every pod sandbox.
//
// It holds the pod's namespaces open, sleeps until told to stop, exits 0 on SIGINT
// or SIGTERM, and reaps children that get reparented to it (it is PID 1 when the
// pod shares one PID namespace).
//
// Instead of signal handlers around pause(2) it blocks the three signals and takes
// them one at a time with rt_sigtimedwait(2): no handler or sa_restorer trampoline
// is needed, no signal can slip in between a check and the sleep, and, because
// blocked signals are queued even for a PID 1 without handlers, SIGTERM sent to it
// from outside its PID namespace still arrives.
//
// Rebuild the Go byte slice with `go generate ./pkg/images` (runs pause_gen.sh).

	.set SYS_exit_group, 94
	.set SYS_rt_sigprocmask, 135
	.set SYS_rt_sigtimedwait, 137
	.set SYS_wait4, 260

	.set SIG_BLOCK, 0
	.set SIGINT, 2
	.set SIGTERM, 15
	.set SIGCHLD, 17
	.set WNOHANG, 1
	.set SIGSET_SIZE, 8

	.text
	.globl _start
_start:
	// rt_sigprocmask(SIG_BLOCK, &waited, NULL, 8)
	mov	x0, #SIG_BLOCK
	adr	x1, waited
	mov	x2, #0
	mov	x3, #SIGSET_SIZE
	mov	x8, #SYS_rt_sigprocmask
	svc	#0
	cbnz	x0, fail
	// Children may have exited before the mask was set, while their
	// SIGCHLD was still discarded: reap once before the first wait.
reap:
	// wait4(-1, NULL, WNOHANG, NULL) until no exited child is left
	mov	x0, #-1
	mov	x1, #0
	mov	x2, #WNOHANG
	mov	x3, #0
	mov	x8, #SYS_wait4
	svc	#0
	cmp	x0, #0
	b.gt	reap
wait:
	// rt_sigtimedwait(&waited, NULL, NULL, 8): no timeout, sleep until one arrives
	adr	x0, waited
	mov	x1, #0
	mov	x2, #0
	mov	x3, #SIGSET_SIZE
	mov	x8, #SYS_rt_sigtimedwait
	svc	#0
	cmp	x0, #SIGCHLD
	b.eq	reap
	cmp	x0, #SIGTERM
	b.eq	done
	cmp	x0, #SIGINT
	b.eq	done
	// -EINTR (e.g. after SIGSTOP/SIGCONT): wait again
	b	wait
done:
	mov	x0, #0
	mov	x8, #SYS_exit_group
	svc	#0
fail:
	mov	x0, #1
	mov	x8, #SYS_exit_group
	svc	#0

	.section .rodata
	.balign 8
// sigset_t bit (n-1) stands for signal n
waited:
	.quad	(1 << (SIGINT - 1)) | (1 << (SIGTERM - 1)) | (1 << (SIGCHLD - 1))

	.section .note.GNU-stack, "", %progbits
