import { shippedPlaybookTests } from '../shipped-playbook-tests.ts';

shippedPlaybookTests('otlp-collector-p0.test.yaml');
