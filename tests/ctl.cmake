# Integration tests of wf4ctl's operations subcommands (status, doctor, select, requeue).
include(${WF4_TEST_DIR}/stack.cmake)

wf4_integration_test(ctl_doctor ctl_doctor.sh LABELS ctl TIMEOUT 120)
wf4_integration_test(ctl_status ctl_status.sh LABELS ctl TIMEOUT 120)
wf4_integration_test(ctl_select ctl_select.sh LABELS ctl TIMEOUT 120)
wf4_integration_test(ctl_requeue_dlq ctl_requeue_dlq.sh LABELS ctl TIMEOUT 180)
