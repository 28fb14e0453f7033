import { shippedPlaybookTests } from '../shipped-playbook-tests.ts';

shippedPlaybookTests('memory-leak.test.yaml');
