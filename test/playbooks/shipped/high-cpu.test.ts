import { shippedPlaybookTests } from '../shipped-playbook-tests.ts';

shippedPlaybookTests('high-cpu.test.yaml');
