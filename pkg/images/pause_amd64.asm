# pause for x86-64 Linux: the first process of every pod sandbox.
#
# It holds the pod's namespaces open, sleeps until told to stop, exits 0 on SIGINT
# or SIGTERM, and reaps children that get reparented to it (it is PID 1 when the
# pod shares one PID namespace).
#
# Instead of signal handlers around pause(2) it blocks the three signals and takes
# them one at a time with rt_sigtimedwait(2): no handler or sa_restorer trampoline
# is needed, no signal can slip in between a check and the sleep, and, because
# blocked signals are queued even for a PID 1 without handlers, SIGTERM sent to it
# from outside its PID namespace still arrives.
#
# Rebuild the Go byte slice with `go generate ./pkg/images` (runs pause_gen.sh).

	.intel_syntax noprefix

	.set SYS_rt_sigprocmask, 14
	.set SYS_wait4, 61
	.set SYS_rt_sigtimedwait, 128
	.set SYS_exit_group, 231

	.set SIG_BLOCK, 0
	.set SIGINT, 2
	.set SIGTERM, 15
	.set SIGCHLD, 17
	.set WNOHANG, 1
	.set SIGSET_SIZE, 8

	.text
	.globl _start
_start:
	# rt_sigprocmask(SIG_BLOCK, &waited, NULL, 8)
	mov	edi, SIG_BLOCK
	lea	rsi, [rip + waited]
	xor	edx, edx
	mov	r10d, SIGSET_SIZE
	mov	eax, SYS_rt_sigprocmask
	syscall
	test	rax, rax
	jnz	fail
	# Children may have exited before the mask was set, while their
	# SIGCHLD was still discarded: reap once before the first wait.
reap:
	# wait4(-1, NULL, WNOHANG, NULL) until no exited child is left
	mov	edi, -1
	xor	esi, esi
	mov	edx, WNOHANG
	xor	r10d, r10d
	mov	eax, SYS_wait4
	syscall
	test	rax, rax
	jg	reap
wait:
	# rt_sigtimedwait(&waited, NULL, NULL, 8): no timeout, sleep until one arrives
	lea	rdi, [rip + waited]
	xor	esi, esi
	xor	edx, edx
	mov	r10d, SIGSET_SIZE
	mov	eax, SYS_rt_sigtimedwait
	syscall
	cmp	eax, SIGCHLD
	je	reap
	cmp	eax, SIGTERM
	je	done
	cmp	eax, SIGINT
	je	done
	# -EINTR (e.g. after SIGSTOP/SIGCONT): wait again
	jmp	wait
done:
	xor	edi, edi
	mov	eax, SYS_exit_group
	syscall
fail:
	mov	edi, 1
	mov	eax, SYS_exit_group
	syscall

	.section .rodata
	.balign 8
# sigset_t bit (n-1) stands for signal n
waited:
	.quad	(1 << (SIGINT - 1)) | (1 << (SIGTERM - 1)) | (1 << (SIGCHLD - 1))

	.section .note.GNU-stack, "", @progbits
